import type { CaseRecord } from '../record.ts';
import { cardMarkdown, productCard } from './card.ts';
import type { EvidenceInput } from './facts.ts';
import { controlRows, deviceTitle, runFacts, serverFacts } from './facts.ts';
import { caseAnchor, cellKey, primaryProfile, verdictMatrix } from './matrix.ts';

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const VERDICT_MARK: Record<string, string> = {
  conformant: '✅',
  lenient: '🟥',
  strict: '🟧',
  inconclusive: '⬜',
  blocked: '⛔',
  skipped: '⏭',
  'control-failed': '❓',
};
const mark = (verdict: string | undefined) => `${VERDICT_MARK[verdict ?? ''] ?? '·'} ${verdict ?? '—'}`;

function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `|${header.map(() => '---|').join('')}`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

function caseSection(r: CaseRecord, input: EvidenceInput): string[] {
  const lines = [`### ${r.case}`, '', `<a id="${caseAnchor(r.case)}"></a>`, '', `${r.title}`, ''];
  lines.push(`**Outcome: ${r.outcome}** — ${r.reason}`, '');
  lines.push(
    'Verdict per profile:',
    '',
    ...table(
      ['profile', 'verdict'],
      Object.entries(r.verdicts).map(([p, v]) => [p, mark(v)]),
    ),
    '',
  );
  lines.push(
    'Device settings:',
    '',
    ...table(
      ['setting', 'value'],
      Object.entries(r.params).map(([k, v]) => [k, String(v)]),
    ),
    '',
  );
  lines.push('Certificate chain:', '');
  const certRows = [
    ...r.certs.anchors.map((c) => [
      'anchor (uploaded)',
      c.subject,
      c.issuer,
      c.serial,
      `${c.notBefore} → ${c.notAfter}`,
    ]),
    ...r.certs.served.map((c, i) => [
      `served #${i}`,
      c.subject,
      c.issuer,
      c.serial,
      `${c.notBefore} → ${c.notAfter}`,
    ]),
  ];
  lines.push(
    ...(certRows.length
      ? table(['role', 'subject', 'issuer', 'serial', 'validity'], certRows)
      : ['No certificates (the case did not run).']),
  );
  if (r.pemFile) lines.push('', `PEM bundle: [${r.pemFile}](${r.pemFile})`);
  lines.push('', 'Server observation:', '', ...table(['', ''], serverFacts(r)), '');
  lines.push(`Modem codes: ${r.codes.length ? r.codes.map((c) => `\`${c}\``).join(', ') : 'none'}`, '');
  const controls = controlRows(r);
  lines.push(
    'Reference controls:',
    '',
    ...(controls ? table(controls.columns, controls.rows) : ['Not run for this case.']),
    '',
  );
  const transcript = input.readRunFile(r.transcriptFile);
  lines.push(
    'AT transcript:',
    '',
    transcript ? ['```text', transcript.trimEnd(), '```'].join('\n') : 'None recorded.',
    '',
  );
  return lines;
}

/** The evidence document as Markdown: the product-spec card, trust model, verdict matrix, then every case in full. */
export function renderEvidenceMarkdown(input: EvidenceInput): string {
  const d = deviceTitle(input);
  const lines = [`# TrustLab evidence — ${d.model} ${d.firmware}`, ''];
  lines.push(...cardMarkdown(productCard(input)));
  lines.push(...table(['', ''], runFacts(input)), '');

  lines.push('## Inferred trust-anchor model', '');
  if (!input.trustModel)
    lines.push('The trust-anchor model was not inferred in this run (no trust-model.json).');
  else
    lines.push(
      ...table(
        ['question', 'answer', 'evidence', 'detail'],
        input.trustModel.map((a) => [
          a.question,
          `**${a.answer}**`,
          a.cases.map((c) => `[${c}](#${caseAnchor(c)})`).join(', ') || '—',
          a.detail ?? '',
        ]),
      ),
    );
  lines.push('');

  const profile = primaryProfile(input.records);
  const matrix = verdictMatrix(input.records);
  lines.push(`## Verdict matrix (${profile})`, '');
  lines.push(
    `Rows are scenarios by family; columns are how the settings differ from this run's defaults (listed below the table); ${Object.entries(
      VERDICT_MARK,
    )
      .map(([v, m]) => `${m} ${v}`)
      .join(', ')}.`,
    '',
  );
  lines.push(
    ...table(
      ['scenario', ...matrix.columns],
      matrix.families.flatMap((g) => [
        [`**${g.family}**`, ...matrix.columns.map(() => '')],
        ...g.rows.map((row) => [
          row,
          ...matrix.columns.map((col) => {
            const r = matrix.cells.get(cellKey(row, col));
            return r ? `[${mark(r.verdicts[profile])}](#${caseAnchor(r.case)}) ${r.outcome}` : '';
          }),
        ]),
      ]),
    ),
    '',
    ...table(
      ['column', 'settings'],
      matrix.columns.map((c) => [c, `\`${matrix.columnSettings.get(c) ?? ''}\``]),
    ),
    '',
  );

  lines.push('## Cases', '');
  for (const r of input.records) lines.push(...caseSection(r, input));
  return `${lines.join('\n')}\n`;
}
