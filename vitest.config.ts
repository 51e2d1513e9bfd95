import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts', 'suites/**/*.suite.ts'],
    exclude: ['node_modules/**', 'reports/out/**'],
    // The tests' restore journals stay out of the user's ~/.trustlab, one folder per test file
    // (and reach the runs they spawn).
    setupFiles: ['scripts/vitest-state-dir.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // On CI, JUnit XML next to the console output; locally the console only.
    reporters: process.env.CI
      ? ['default', ['junit', { outputFile: 'reports/out/junit.xml', suiteName: 'trustlab' }]]
      : ['default'],
  },
});
