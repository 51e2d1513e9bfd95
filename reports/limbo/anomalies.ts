import { STYLE } from '../evidence/html.ts';
import type { CaseRecord } from '../record.ts';
import { actualResultOf, LIMBO_VERDICT, serverSawOf } from './limbo-results.ts';

/**
 * The anomalies page of a limbo run, after limbo's own anomalous-results pages: per namespace, the
 * unexpected successes, the unexpected failures and the skipped cases, each with what the server
 * saw (the client's alert) and the device's own codes. Markdown and one self-contained HTML page.
 */

export interface LimboRunFacts {
  readonly device: string;
  readonly engine: string;
  readonly suite: string;
  readonly revision: string;
  readonly harness: string;
}

const namespaceOf = (id: string) => id.split('::')[0] ?? id;
const verdictOf = (r: CaseRecord) => r.verdicts[LIMBO_VERDICT] ?? 'none';

export interface NamespaceCounts {
  readonly namespace: string;
  readonly cases: number;
  readonly conformant: number;
  readonly lenient: number;
  readonly strict: number;
  readonly skipped: number;
  readonly inconclusive: number;
}

const COUNTED = ['conformant', 'lenient', 'strict', 'inconclusive'] as const;

/** Per namespace, how the cases went; `skipped` counts every case without a verdict (skipped, blocked). */
export function countsPerNamespace(records: readonly CaseRecord[]): NamespaceCounts[] {
  const by = new Map<string, CaseRecord[]>();
  for (const r of records) by.set(namespaceOf(r.case), [...(by.get(namespaceOf(r.case)) ?? []), r]);
  const count = (rs: CaseRecord[], v: string) => rs.filter((r) => verdictOf(r) === v).length;
  const rows = [...by.entries()].map(([namespace, rs]) => {
    const [conformant, lenient, strict, inconclusive] = COUNTED.map((v) => count(rs, v)) as [
      number,
      number,
      number,
      number,
    ];
    return {
      namespace,
      cases: rs.length,
      conformant,
      lenient,
      strict,
      inconclusive,
      skipped: rs.length - conformant - lenient - strict - inconclusive,
    };
  });
  return rows.sort((a, b) => a.namespace.localeCompare(b.namespace));
}

export function totals(rows: readonly NamespaceCounts[]): NamespaceCounts {
  const sum = (k: keyof Omit<NamespaceCounts, 'namespace'>) => rows.reduce((n, r) => n + r[k], 0);
  return {
    namespace: 'all',
    cases: sum('cases'),
    conformant: sum('conformant'),
    lenient: sum('lenient'),
    strict: sum('strict'),
    skipped: sum('skipped'),
    inconclusive: sum('inconclusive'),
  };
}

interface Anomaly {
  readonly id: string;
  readonly expected: string;
  readonly actual: string;
  readonly serverSaw: string;
  readonly device: string;
  readonly why: string;
  readonly transcript: string | null;
}

function anomalyOf(r: CaseRecord): Anomaly {
  return {
    id: r.case,
    expected: String(r.params.expected_result ?? '?'),
    actual: actualResultOf(r.outcome),
    serverSaw: r.outcome === 'skipped' || r.outcome === 'blocked' ? '—' : serverSawOf(r),
    device: r.codes.join(' | ') || '—',
    why: r.virtualTls?.reason ? `${r.virtualTls.engine}: ${r.virtualTls.reason}` : r.reason,
    transcript: r.transcriptFile,
  };
}

const SECTIONS = [
  ['Unexpected successes (lenient)', 'lenient'],
  ['Unexpected failures (strict)', 'strict'],
  ['Inconclusive', 'inconclusive'],
  ['Skipped', 'not-applicable'],
  ['Blocked', 'blocked'],
] as const;

function grouped(records: readonly CaseRecord[]) {
  return countsPerNamespace(records).map((counts) => ({
    counts,
    sections: SECTIONS.map(([title, verdict]) => ({
      title,
      rows: records
        .filter((r) => namespaceOf(r.case) === counts.namespace && verdictOf(r) === verdict)
        .map(anomalyOf),
    })).filter((s) => s.rows.length > 0),
  }));
}

const mdCell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const COUNT_HEADER = ['namespace', 'cases', 'conformant', 'lenient', 'strict', 'skipped', 'inconclusive'];
const countCells = (c: NamespaceCounts) => [
  c.namespace,
  ...[c.cases, c.conformant, c.lenient, c.strict, c.skipped, c.inconclusive].map(String),
];

export function renderAnomaliesMarkdown(records: readonly CaseRecord[], facts: LimboRunFacts): string {
  const groups = grouped(records);
  const rows = groups.map((g) => g.counts);
  const lines = [
    `# x509-limbo on the wire — ${facts.device}`,
    '',
    `TLS engine: ${facts.engine} · suite: ${facts.suite} (x509-limbo ${facts.revision}) · harness: ${facts.harness}`,
    '',
    'Conformant: the device did what limbo expects. Lenient: it connected where limbo expects a failure. Strict: it refused where limbo expects success. Skipped: the case asks for something a modem cannot be given (the reason says what).',
    '',
    `| ${COUNT_HEADER.join(' | ')} |`,
    `|${COUNT_HEADER.map(() => '---').join('|')}|`,
    ...[...rows, totals(rows)].map((c) => `| ${countCells(c).join(' | ')} |`),
  ];
  for (const g of groups) {
    if (g.sections.length === 0) continue;
    lines.push('', `## ${g.counts.namespace}`);
    for (const s of g.sections) {
      lines.push('', `### ${s.title} (${s.rows.length})`, '');
      if (s.title === 'Skipped' || s.title === 'Blocked') {
        lines.push('| case | why |', '|---|---|', ...s.rows.map((a) => `| \`${a.id}\` | ${mdCell(a.why)} |`));
      } else {
        lines.push(
          '| case | expected | actual | the server saw | device codes | why |',
          '|---|---|---|---|---|---|',
          ...s.rows.map(
            (a) =>
              `| \`${a.id}\` | ${a.expected} | ${a.actual} | ${mdCell(a.serverSaw)} | ${mdCell(a.device)} | ${mdCell(a.why)} |`,
          ),
        );
      }
    }
  }
  const several = severalAnchors(records);
  if (several.length > 0) {
    lines.push('', `## ${SEVERAL_TITLE} (${several.length})`, '', SEVERAL_NOTE, '');
    lines.push('| case | anchors | verdict | outcome | the server saw |', '|---|---|---|---|---|');
    for (const r of several)
      lines.push(
        `| \`${r.case}\` | ${r.params.anchors} | ${verdictOf(r)} | ${r.outcome} | ${mdCell(r.outcome === 'skipped' ? r.reason : serverSawOf(r))} |`,
      );
  }
  return `${lines.join('\n')}\n`;
}

const SEVERAL_TITLE = 'Several anchors in one file';
const SEVERAL_NOTE =
  "Every trusted certificate of the case went to the device in one uploaded file, in limbo's order; the upload and the device's answer to it are in each case's transcript.";

/** Cases whose anchors were several certificates in the one file the device was given. */
function severalAnchors(records: readonly CaseRecord[]): CaseRecord[] {
  return records.filter((r) => Number(r.params.anchors ?? 0) > 1);
}

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

const LIMBO_STYLE = `
.ns{border:1px solid #d6dce1;border-radius:6px;padding:8px 14px;margin:14px 0}
td.id code{word-break:break-all}.scroll td{min-width:8em;overflow-wrap:break-word}
.scroll{overflow-x:auto;max-width:100%}
`;

function htmlTable(header: readonly string[], rows: readonly string[][]): string {
  return `<div class="scroll"><table><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows
    .map((row) => `<tr>${row.join('')}</tr>`)
    .join('')}</table></div>`;
}

export function renderAnomaliesHtml(records: readonly CaseRecord[], facts: LimboRunFacts): string {
  const groups = grouped(records);
  const rows = groups.map((g) => g.counts);
  const td = (s: string, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${esc(s)}</td>`;
  const idCell = (a: Anomaly) =>
    `<td class="id"><code>${esc(a.id)}</code>${a.transcript ? ` <a href="${esc(a.transcript)}">transcript</a>` : ''}</td>`;
  const summary = htmlTable(
    COUNT_HEADER,
    [...rows, totals(rows)].map((c) =>
      countCells(c).map((v, i) => (i === 0 ? `<td><a href="#ns-${esc(v)}">${esc(v)}</a></td>` : td(v))),
    ),
  );
  const sections = groups
    .filter((g) => g.sections.length > 0)
    .map(
      (g) =>
        `<section class="ns" id="ns-${esc(g.counts.namespace)}"><h2>${esc(g.counts.namespace)}</h2>${g.sections
          .map((s) => {
            const plain = s.title === 'Skipped' || s.title === 'Blocked';
            const table = plain
              ? htmlTable(
                  ['case', 'why'],
                  s.rows.map((a) => [idCell(a), td(a.why)]),
                )
              : htmlTable(
                  ['case', 'expected', 'actual', 'the server saw', 'device codes', 'why'],
                  s.rows.map((a) => [
                    idCell(a),
                    td(a.expected),
                    td(a.actual),
                    td(a.serverSaw),
                    td(a.device),
                    td(a.why),
                  ]),
                );
            return `<details${plain ? '' : ' open'}><summary>${esc(s.title)} (${s.rows.length})</summary>${table}</details>`;
          })
          .join('')}</section>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>x509-limbo on the wire — ${esc(facts.device)}</title><style>${STYLE}${LIMBO_STYLE}</style></head><body>
<h1>x509-limbo on the wire — ${esc(facts.device)}</h1>
<p>TLS engine: <b>${esc(facts.engine)}</b> · suite: ${esc(facts.suite)} (x509-limbo ${esc(facts.revision)}) · harness: ${esc(facts.harness)}</p>
<p class="muted">Conformant: the device did what limbo expects. Lenient: it connected where limbo expects a failure. Strict: it refused where limbo expects success. Skipped: the case asks for something a modem cannot be given.</p>
${summary}${sections}${severalHtml(records, td)}</body></html>
`;
}

function severalHtml(records: readonly CaseRecord[], td: (s: string) => string): string {
  const several = severalAnchors(records);
  if (several.length === 0) return '';
  const rows = several.map((r) => [
    `<td class="id"><code>${esc(r.case)}</code></td>`,
    td(String(r.params.anchors)),
    td(verdictOf(r)),
    td(r.outcome),
    td(r.outcome === 'skipped' ? r.reason : serverSawOf(r)),
  ]);
  return `<section class="ns" id="several-anchors"><h2>${esc(SEVERAL_TITLE)} (${several.length})</h2><p class="muted">${esc(SEVERAL_NOTE)}</p>${htmlTable(['case', 'anchors', 'verdict', 'outcome', 'the server saw'], rows)}</section>`;
}
