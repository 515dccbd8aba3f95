import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Store workers and LevelDB handles are real; forks keep each test file's native state apart.
    pool: 'forks',
    // Two files at a time. vitest's default is one fewer than the cores (one on the 2-core machine),
    // yet most of a file's time is spent waiting: on child processes, on store workers, on fsync.
    maxWorkers: 2,
    // dist/ compiled once from the current source, for the commands tests run as child processes.
    globalSetup: ['test/helpers/compiled-cli.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
