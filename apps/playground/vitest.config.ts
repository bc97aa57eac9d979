import { defineConfig } from 'vitest/config'

// The e2e suite drives the built app (dist/, made by `build`, which turbo runs before `test`) in
// headless Chromium on SwiftShader: generations take tens of seconds each.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 180_000, fileParallelism: false },
})
