import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts', 'suites/**/*.suite.ts'],
    exclude: ['node_modules/**', 'reports/out/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // On CI, JUnit XML next to the console output; locally the console only.
    reporters: process.env.CI
      ? ['default', ['junit', { outputFile: 'reports/out/junit.xml', suiteName: 'trustlab' }]]
      : ['default'],
  },
});
