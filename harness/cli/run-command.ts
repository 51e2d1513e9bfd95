import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVitest } from 'vitest/node';
import { renderMarkdownReport } from '../../reports/markdown.ts';
import { readRecords } from '../../reports/results-log.ts';
import { renderSummary } from '../../reports/summary.ts';
import { RESULTS_FILE } from '../../suites/execute.ts';
import { RUN_CONFIG_VARIABLE, type RunConfig } from '../../suites/run-config.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunOptions {
  readonly device?: string;
  readonly driver: RunConfig['driver'];
  readonly personality: RunConfig['personality'];
  readonly out?: string;
  readonly dialHost: string;
  readonly listenHost: string;
}

const runId = () => new Date().toISOString().replace(/[:.]/g, '-');

/**
 * Runs the conformance suite through vitest (so JUnit and Allure reporters apply), then builds the
 * report from results.jsonl alone: whatever the suite managed to record is reported.
 * Exit code 0 when the report was written; findings are in the report, not in the exit code.
 */
export async function runCommand(options: RunOptions): Promise<number> {
  const outDir = resolve(options.out ?? join(PROJECT_ROOT, 'reports', 'out', runId()));
  mkdirSync(outDir, { recursive: true });
  const config: RunConfig = {
    ...(options.device ? { device: options.device } : {}),
    driver: options.driver,
    personality: options.personality,
    outDir,
    lab: { dialHost: options.dialHost, listenHost: options.listenHost },
  };
  process.env[RUN_CONFIG_VARIABLE] = JSON.stringify(config);
  const vitest = await startVitest('test', [], {
    root: PROJECT_ROOT,
    include: ['suites/**/*.suite.ts'],
    watch: false,
    run: true,
  });
  await vitest?.close();
  process.exitCode = undefined; // vitest sets it for failed tests; findings do not fail the run

  const resultsFile = join(outDir, RESULTS_FILE);
  if (!existsSync(resultsFile)) {
    console.error(`trustlab: no case was recorded; see the test output above (out: ${outDir})`);
    return 2;
  }
  const records = readRecords(resultsFile);
  const reportPath = join(outDir, 'report.md');
  writeFileSync(
    reportPath,
    renderMarkdownReport(records, `TrustLab report — ${records[0]?.device.label ?? 'no device'}`),
  );
  console.log(renderSummary(records, reportPath));
  return 0;
}
