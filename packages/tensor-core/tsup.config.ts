import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // Dawn's Node binding is loaded lazily and only in Node; browsers never see it.
  external: ['webgpu', 'node:os', 'node:fs', 'node:fs/promises', 'node:path', 'node:module'],
})
