import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // pngjs and the emoji packages are loaded lazily, only in Node.
  external: ['pngjs', 'node:zlib', 'node:fs', 'node:fs/promises', 'node:path', 'node:module', 'node:url'],
})
