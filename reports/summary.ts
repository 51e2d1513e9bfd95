import type { CaseRecord } from './record.ts';
import { describeServerEnd } from './server-end.ts';

/** One screen for the terminal: a line per case, totals, and where the report is. */
export function renderSummary(
  records: readonly CaseRecord[],
  reportPath: string,
  extras: readonly string[] = [],
): string {
  const width = Math.max(4, ...records.map((r) => r.case.length));
  const lines = ['', 'TrustLab run summary', ''];
  for (const r of records) {
    lines.push(
      `  ${r.case.padEnd(width)}  ${r.outcome.padEnd(12)}  rfc5280=${(r.verdicts.rfc5280 ?? '—').padEnd(12)}  ${r.codes.at(0) ?? '—'}  server: ${describeServerEnd(r.server)}`,
    );
  }
  const count = (o: string) => records.filter((r) => r.outcome === o).length;
  const findings = records.filter((r) => ['lenient', 'strict'].includes(r.verdicts.rfc5280 ?? '')).length;
  lines.push(
    '',
    `  ${records.length} cases: ${count('accepted')} accepted, ${count('rejected')} rejected, ${count('inconclusive')} inconclusive, ${count('blocked')} blocked; ${findings} rfc5280 findings`,
    ...extras.map((line) => `  ${line}`),
    `  report: ${reportPath}`,
    '',
  );
  return lines.join('\n');
}
