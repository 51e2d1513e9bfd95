import { resolve } from 'node:path';
import { mergeRuns } from '../../reports/merge.ts';
import { evaluateGate } from '../../reports/quality-gate.ts';
import { renderSummary } from '../../reports/summary.ts';
import { writeRunReports } from '../../reports/write-run-reports.ts';
import { writeTrustModel } from '../../suites/trust-model.ts';
import {
  planReporting,
  type ReportingFlags,
  type ReportingPlan,
  resolveBaseline,
} from './reporting-options.ts';

/**
 * `trustlab merge <runs...> --out DIR`: shard runs of one model and firmware into one run and
 * report. Exit 0 when merged, 1 when the quality gate (`--fail-on`) failed, 2 for a usage error.
 */
export async function mergeCommand(
  runs: readonly string[],
  options: ReportingFlags & { out: string; allureReport?: boolean },
): Promise<number> {
  const outDir = resolve(options.out);
  let merged: ReturnType<typeof mergeRuns>;
  let reporting: ReportingPlan;
  try {
    // Checked before anything is written; `stored` is resolved once the merged identity is known.
    reporting = planReporting(options, 'stored');
    merged = mergeRuns(
      runs.map((r) => resolve(r)),
      outDir,
    );
  } catch (error) {
    console.error(`trustlab merge: ${(error as Error).message}`);
    return 2;
  }
  // The trust model rests on every case, so it is recomputed over the union, never copied from a shard.
  writeTrustModel(outDir, merged.records);
  // Shards of the virtual modem carry a real module's identity: no stored baseline applies to them.
  const virtual = merged.manifest.device?.split(', ').some((d) => /^virtual[-:]/.test(d)) ?? false;
  const baseline =
    virtual && options.baseline === undefined ? null : resolveBaseline(reporting, merged.manifest);
  const written = await writeRunReports(outDir, merged.records, merged.manifest, {
    allure: options.allureReport !== false,
    profile: reporting.profile,
    baseline,
    ...(options.allureHistory ? { allureHistory: options.allureHistory } : {}),
  });
  if (written.allureError) console.error(`trustlab merge: ${written.allureError}`);
  const gate = evaluateGate(merged.records, {
    failOn: reporting.failOn,
    profile: reporting.profile,
    baseline: baseline?.set ?? null,
  });
  const extras = [
    `merged ${runs.length} runs (${merged.manifest.status})`,
    `evidence: ${written.evidence.html}`,
    ...(written.allureReport ? [`allure: ${written.allureReport}`] : []),
    `baseline: ${baseline ? baseline.source : 'none (every finding counts as new)'}`,
    gate.line,
  ];
  console.log(renderSummary(merged.records, written.report, extras));
  return gate.failed ? 1 : 0;
}
