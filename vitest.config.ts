import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// The tests' restore journals stay out of the user's ~/.trustlab (and reach the runs they spawn).
// `trustlab run` loads this file too, with TRUSTLAB_RUN set: a lab's state folder is left alone.
if (!process.env.TRUSTLAB_RUN)
  process.env.TRUSTLAB_STATE_DIR ??= mkdtempSync(join(tmpdir(), 'trustlab-state-'));

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
