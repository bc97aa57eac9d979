import { defineConfig } from 'tsup'

export default defineConfig({
  // testing: tiny untrained bundles for tests here and in the apps ('@tessera/dalle/testing').
  entry: ['src/index.ts', 'src/testing.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: ['webgpu', 'node:fs', 'node:fs/promises', 'node:path', 'node:url'],
})
