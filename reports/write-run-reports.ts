import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateAllureReport } from './allure-report.ts';
import { writeEvidence } from './evidence/write.ts';
import { renderMarkdownReport } from './markdown.ts';
import type { CaseRecord } from './record.ts';
import type { RunManifest } from './run-manifest.ts';

export interface RunReports {
  readonly report: string;
  readonly evidence: { readonly markdown: string; readonly html: string };
  readonly allureReport: string | null;
  /** Why the Allure report is missing, when it is. */
  readonly allureError: string | null;
}

/** report.md, the evidence documents and (when asked) the Allure HTML report of a run folder. */
export async function writeRunReports(
  outDir: string,
  records: readonly CaseRecord[],
  manifest: RunManifest | null,
  options: { allure: boolean },
): Promise<RunReports> {
  const report = join(outDir, 'report.md');
  writeFileSync(
    report,
    renderMarkdownReport(records, `TrustLab report — ${records[0]?.device.label ?? 'no device'}`),
  );
  const evidence = writeEvidence(outDir, records, manifest);
  let allureReport: string | null = null;
  let allureError: string | null = null;
  if (options.allure) {
    try {
      await generateAllureReport(join(outDir, 'allure-results'), join(outDir, 'allure-report'));
      allureReport = join(outDir, 'allure-report', 'index.html');
    } catch (error) {
      allureError = (error as Error).message;
    }
  }
  return { report, evidence, allureReport, allureError };
}
