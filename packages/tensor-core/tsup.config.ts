import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  // The public types use WebGPU's (GPUPowerPreference, GPUDevice): the reference makes them
  // resolve from the @webgpu/types dependency without the consumer listing it in `types`.
  dts: { banner: '/// <reference types="@webgpu/types" />' },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // Dawn's Node binding is loaded lazily and only in Node; browsers never see it.
  external: ['webgpu', 'node:os', 'node:fs', 'node:fs/promises', 'node:path', 'node:module'],
})
