import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateAllureReport } from './allure-report.ts';
import { allureCategories, type ReportEnvironment, writeAllureResults } from './allure-results.ts';
import type { BehaviourSet } from './behaviour.ts';
import { printPdf } from './evidence/card-pdf.ts';
import { readTrustModel } from './evidence/trust-model.ts';
import { CARD_FILE, CARD_PDF_FILE, writeEvidence } from './evidence/write.ts';
import { readHarnessFaults } from './harness-faults.ts';
import { writeJunit } from './junit.ts';
import { renderMarkdownReport } from './markdown.ts';
import { printable } from './printable.ts';
import type { CaseRecord } from './record.ts';
import type { RunManifest } from './run-manifest.ts';

export interface RunReports {
  readonly report: string;
  readonly evidence: { readonly markdown: string; readonly html: string; readonly card: string };
  /** The card printed to PDF, or why it was not. */
  readonly cardPdf: { readonly pdf: string } | { readonly skipped: string };
  readonly junit: string;
  readonly allureResults: string;
  readonly allureReport: string | null;
  /** Why the Allure report is missing, when it is. */
  readonly allureError: string | null;
}

export interface ReportOptions {
  /** Generate the Allure HTML report from allure-results/. */
  readonly allure: boolean;
  /** The profile dashboards judge by (default rfc5280). */
  readonly profile?: string;
  /** The baseline whose findings are known, and where it came from. */
  readonly baseline?: { readonly set: BehaviourSet; readonly source: string } | null;
  /** Allure history file or folder, kept between runs. */
  readonly allureHistory?: string;
}

export const DEFAULT_PROFILE = 'rfc5280';

/** The run's card.html printed to card.pdf; a failed print is said, never fatal to the reports. */
export async function printCardPdf(outDir: string): Promise<{ pdf: string } | { skipped: string }> {
  try {
    return await printPdf(join(outDir, CARD_FILE), join(outDir, CARD_PDF_FILE));
  } catch (error) {
    return { skipped: `printing the card failed: ${(error as Error).message.split('\n')[0]}` };
  }
}

function environmentOf(
  records: readonly CaseRecord[],
  manifest: RunManifest | null,
  profile: string,
  baseline: string | null,
): ReportEnvironment {
  const first = records[0];
  return {
    device: manifest?.device ?? first?.device.label ?? 'unknown',
    model: manifest?.identity?.model ?? first?.device.model ?? 'unknown',
    firmware: manifest?.identity?.firmware ?? first?.device.firmware ?? 'unknown',
    imei: manifest?.identity?.imei ?? null,
    harnessVersion: manifest?.harness?.version ?? 'unknown',
    harnessCommit: manifest?.harness?.commit ?? null,
    catalogueRevision: manifest?.catalogue?.revision ?? null,
    profile,
    baseline,
  };
}

/**
 * Every report of a run folder, from its records alone: report.md, the evidence documents,
 * junit.xml and allure-results/ (each case's status from its verdict under the profile, known
 * findings from the baseline, harness faults apart) and, when asked, the Allure HTML report.
 */
export async function writeRunReports(
  outDir: string,
  records: readonly CaseRecord[],
  manifest: RunManifest | null,
  options: ReportOptions,
): Promise<RunReports> {
  const report = join(outDir, 'report.md');
  writeFileSync(
    report,
    printable(renderMarkdownReport(records, `TrustLab report — ${records[0]?.device.label ?? 'no device'}`)),
  );
  const evidence = writeEvidence(outDir, records, manifest);
  const cardPdf = await printCardPdf(outDir);
  const profile = options.profile ?? DEFAULT_PROFILE;
  const baseline = options.baseline ?? null;
  const environment = environmentOf(records, manifest, profile, baseline?.source ?? null);
  const harnessFaults = readHarnessFaults(outDir);
  const judged = { outDir, records, environment, profile, baseline: baseline?.set ?? null, harnessFaults };
  const junit = writeJunit(judged).file;
  const allureResults = writeAllureResults({ ...judged, trustModel: readTrustModel(outDir) });
  let allureReport: string | null = null;
  let allureError: string | null = null;
  if (options.allure) {
    try {
      await generateAllureReport(allureResults, join(outDir, 'allure-report'), {
        categories: allureCategories(),
        ...(options.allureHistory ? { history: options.allureHistory } : {}),
      });
      allureReport = join(outDir, 'allure-report', 'index.html');
    } catch (error) {
      allureError = (error as Error).message;
    }
  }
  return { report, evidence, cardPdf, junit, allureResults, allureReport, allureError };
}
