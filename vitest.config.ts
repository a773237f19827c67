import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // One engine per run; each file gets its own database, so files run in parallel on the machine's cores.
    fileParallelism: true,
    testTimeout: 60_000,
    // The first run builds the FerretDB launcher (one to two minutes).
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
