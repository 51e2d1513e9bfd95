import type { CaseRecord } from './record.ts';
import { describeServerEnd } from './server-end.ts';

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function serverCell(r: CaseRecord): string {
  if (r.server.handshake === 'no-connection') return describeServerEnd(r.server);
  return `SNI ${r.server.sni ?? 'none'}; ${describeServerEnd(r.server)}`;
}

/** Which TLS stack answered for the built-in virtual modem (the server's view depends on it). */
function tlsEngineLine(records: readonly CaseRecord[]): string[] {
  const notes = [...new Set(records.flatMap((r) => (r.virtualTls ? [r.virtualTls.engineNote] : [])))];
  return notes.length > 0 ? ['', `TLS engine of the virtual modem: ${notes.join('; ')}`] : [];
}

/** The short Markdown report: a row per case with codes, what the server saw, and the verdicts. */
export function renderMarkdownReport(records: readonly CaseRecord[], title: string): string {
  const profiles = [...new Set(records.flatMap((r) => Object.keys(r.verdicts)))];
  const lines = [
    `# ${title}`,
    '',
    records[0]
      ? `Device: ${records[0].device.label} — ${records[0].device.model} ${records[0].device.firmware}`
      : 'No cases ran.',
    ...tlsEngineLine(records),
    '',
    `| case | outcome | modem codes | server observation | ${profiles.join(' | ')} |`,
    `|---|---|---|---|${profiles.map(() => '---|').join('')}`,
  ];
  for (const r of records) {
    const verdicts = profiles.map((p) => r.verdicts[p] ?? '—');
    lines.push(
      `| ${cell(r.case)} | ${r.outcome} | ${cell(r.codes.join('; ') || '—')} | ${cell(serverCell(r))} | ${verdicts.join(' | ')} |`,
    );
  }
  lines.push('', 'Outcome reasons:', '');
  for (const r of records)
    lines.push(
      `- \`${r.case}\`: ${r.reason}${r.transcriptFile ? ` ([transcript](${r.transcriptFile}))` : ''}`,
    );
  return `${lines.join('\n')}\n`;
}
