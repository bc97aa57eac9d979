import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // One process: Dawn's native device is heavy, and lavapipe already uses both cores.
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
