import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // A process per test file: the registry lives on globalThis, so one file's registrations
    // (and a second copy of the package, loaded on purpose) must not leak into the next.
    pool: 'forks',
    poolOptions: { forks: { isolate: true, singleFork: false } },
  },
})
