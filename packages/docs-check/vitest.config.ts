import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each block runs in its own node process with its own timeout (test/readme-examples.test.ts).
    testTimeout: 120_000,
  },
})
