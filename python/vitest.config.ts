import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // One file at a time: each test starts torchrun with two processes, and the machine has two cores.
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
})
