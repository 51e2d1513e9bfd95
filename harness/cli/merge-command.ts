import { resolve } from 'node:path';
import { mergeRuns } from '../../reports/merge.ts';
import { renderSummary } from '../../reports/summary.ts';
import { writeRunReports } from '../../reports/write-run-reports.ts';

/** `trustlab merge <runs...> --out DIR`: shard runs of one model and firmware into one run and report. */
export async function mergeCommand(
  runs: readonly string[],
  options: { out: string; allureReport?: boolean },
): Promise<number> {
  const outDir = resolve(options.out);
  let merged: ReturnType<typeof mergeRuns>;
  try {
    merged = mergeRuns(
      runs.map((r) => resolve(r)),
      outDir,
    );
  } catch (error) {
    console.error(`trustlab merge: ${(error as Error).message}`);
    return 2;
  }
  const written = await writeRunReports(outDir, merged.records, merged.manifest, {
    allure: options.allureReport !== false,
  });
  if (written.allureError) console.error(`trustlab merge: ${written.allureError}`);
  const extras = [
    `merged ${runs.length} runs (${merged.manifest.status})`,
    `evidence: ${written.evidence.html}`,
    ...(written.allureReport ? [`allure: ${written.allureReport}`] : []),
  ];
  console.log(renderSummary(merged.records, written.report, extras));
  return 0;
}
