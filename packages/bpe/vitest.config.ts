import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The parity tests encode hundreds of kB; leave room for a busy shared CI machine.
    testTimeout: 60_000,
  },
})
