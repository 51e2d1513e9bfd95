import { printable } from './printable.ts';
import type { CaseRecord } from './record.ts';
import { describeServerEnd } from './server-end.ts';

/** Findings listed by name before the summary points at the report for the rest. */
const MAX_LISTED = 10;
const VERDICT_ORDER = [
  'conformant',
  'lenient',
  'strict',
  'control-failed',
  'inconclusive',
  'blocked',
  'skipped',
];

function listed(
  title: string,
  records: readonly CaseRecord[],
  describe: (r: CaseRecord) => string,
): string[] {
  if (records.length === 0) return [];
  const width = Math.max(...records.slice(0, MAX_LISTED).map((r) => r.case.length));
  const lines = ['', `  ${title} (${records.length}):`];
  for (const r of records.slice(0, MAX_LISTED)) lines.push(`    ${r.case.padEnd(width)}  ${describe(r)}`);
  if (records.length > MAX_LISTED) lines.push(`    … ${records.length - MAX_LISTED} more in the report`);
  return lines;
}

function verdictCounts(records: readonly CaseRecord[], profile: string): string {
  const counts = new Map<string, number>();
  for (const r of records) {
    const v = r.verdicts[profile] ?? '—';
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  // Known verdicts in their usual order, anything else after them.
  const order = (v: string) => (VERDICT_ORDER.includes(v) ? VERDICT_ORDER.indexOf(v) : VERDICT_ORDER.length);
  return [...counts]
    .sort(([a], [b]) => order(a) - order(b))
    .map(([v, n]) => `${n} ${v}`)
    .join(', ');
}

/**
 * One screen for the terminal, whatever the matrix size: totals, verdicts per profile, the
 * rfc5280 findings and the cases without a verdict by name (the first few), and the report path
 * as the last line, which scripts read.
 */
export function renderSummary(
  records: readonly CaseRecord[],
  reportPath: string,
  extras: readonly string[] = [],
): string {
  const count = (o: string) => records.filter((r) => r.outcome === o).length;
  const profiles = [...new Set(records.flatMap((r) => Object.keys(r.verdicts)))];
  const first = records[0];
  const lines = [
    '',
    `TrustLab run summary${first ? ` — ${first.device.label} (${first.device.model} ${first.device.firmware})` : ''}`,
    '',
    `  ${records.length} cases: ${count('accepted')} accepted, ${count('rejected')} rejected, ${count('inconclusive')} inconclusive, ${count('blocked')} blocked, ${count('skipped')} skipped`,
  ];
  const width = Math.max(0, ...profiles.map((p) => p.length));
  for (const p of profiles) lines.push(`  ${p.padEnd(width)}  ${verdictCounts(records, p)}`);
  lines.push(
    ...listed(
      'rfc5280 findings',
      records.filter((r) => ['lenient', 'strict'].includes(r.verdicts.rfc5280 ?? '')),
      (r) =>
        `${r.verdicts.rfc5280}: ${r.outcome}; ${r.codes.at(0) ?? '—'}; server: ${describeServerEnd(r.server)}`,
    ),
    ...listed(
      'no verdict',
      records.filter(
        (r) => ['inconclusive', 'blocked'].includes(r.outcome) || r.verdicts.rfc5280 === 'control-failed',
      ),
      (r) => `${r.verdicts.rfc5280 === 'control-failed' ? 'control-failed' : r.outcome}: ${r.reason}`,
    ),
    '',
    ...extras.map((line) => `  ${line}`),
    `  report: ${reportPath}`,
    '',
  );
  // Codes and reasons come from the device: escaped, so no control byte reaches the terminal.
  return printable(lines.join('\n'));
}
