import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { BehaviourSet, CaseBehaviour } from './behaviour.ts';
import type { RunDiff } from './diff.ts';
import { STYLE } from './evidence/html.ts';
import { caseAnchor } from './evidence/matrix.ts';
import type { TrustModelAnswer } from './evidence/trust-model.ts';

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

const DIFF_STYLE = `
table.side{width:100%;table-layout:fixed}table.side td{overflow-wrap:anywhere}
tr.changed td{background:#fff8c5}.arrow{color:#57606a;padding:0 4px}
.old{color:#57606a}.new{font-weight:600}
`;

/** A link to a case in a run's evidence page, relative to where the diff page is written; null without one. */
function evidenceLink(set: BehaviourSet, page: string, caseId: string): string | null {
  const evidence = join(set.source, 'evidence.html');
  if (!existsSync(evidence)) return null;
  return `${relative(dirname(page), evidence)}#${caseAnchor(caseId)}`;
}

function caseLinks(set: BehaviourSet, page: string, cases: readonly string[]): string {
  if (cases.length === 0) return '—';
  return cases
    .map((c) => {
      const href = evidenceLink(set, page, c);
      return href ? `<a href="${esc(href)}">${esc(c)}</a>` : esc(c);
    })
    .join(', ');
}

/** The lines a person compares first for a case: outcome, verdicts, codes, what the server saw. */
function sideRows(b: CaseBehaviour | undefined): [string, string][] {
  if (!b) return [['ran', 'no']];
  const s = b.server;
  return [
    ['outcome', b.outcome],
    [
      'verdicts',
      Object.entries(b.verdicts)
        .map(([p, v]) => `${p}: ${v}`)
        .join(', '),
    ],
    ['codes', b.codes.join(' | ') || '—'],
    ['server handshake', s.handshake],
    ['client alert', s.clientAlert ?? '—'],
    ['SNI', s.sni ?? '—'],
    ['MQTT CONNECT', s.mqttConnect ? 'yes' : 'no'],
    ['publishes', String(s.publishes)],
    ['negotiated', s.negotiated ?? '—'],
  ];
}

function caseSide(
  id: string,
  fields: readonly { field: string }[],
  sets: { baseline: BehaviourSet; candidate: BehaviourSet },
  page: string,
): string {
  const before = sideRows(sets.baseline.cases.get(id));
  const after = new Map(sideRows(sets.candidate.cases.get(id)));
  const changedLabels = new Set(
    before.filter(([label, value]) => after.get(label) !== value).map(([label]) => label),
  );
  const rows = before
    .map(
      ([label, value]) =>
        `<tr${changedLabels.has(label) ? ' class="changed"' : ''}><th>${esc(label)}</th><td>${esc(value)}</td><td>${esc(after.get(label) ?? '—')}</td></tr>`,
    )
    .join('');
  const other = fields
    .map((f) => f.field)
    .filter(
      (f) => !f.startsWith('server.') && !['outcome', 'codes'].includes(f) && !f.startsWith('verdicts.'),
    );
  return `<section class="case" id="${caseAnchor(id)}"><h3>${esc(id)}</h3>
<p>Evidence: before ${caseLinks(sets.baseline, page, [id])} · after ${caseLinks(sets.candidate, page, [id])}</p>
<table class="side"><tr><th></th><th>before</th><th>after</th></tr>${rows}</table>
${other.length ? `<p class="muted">Also changed: ${other.map(esc).join(', ')}</p>` : ''}</section>`;
}

/**
 * The firmware-to-firmware diff as one self-contained page: the changed trust-model answers first
 * (old → new, each linked to both runs' evidence), then each changed case side by side.
 * `page` is where the file is written, so the evidence links resolve from there.
 */
export function renderDiffHtml(
  d: RunDiff,
  sets: { baseline: BehaviourSet; candidate: BehaviourSet },
  page: string,
): string {
  const who = (s: RunDiff['baseline']) => `${s.model} ${s.firmware}`;
  const title = `TrustLab diff — ${who(d.baseline)} → ${who(d.candidate)}`;
  const answers = (set: BehaviourSet) =>
    new Map<string, TrustModelAnswer>((set.trustModel ?? []).map((a) => [a.id, a]));
  const before = answers(sets.baseline);
  const after = answers(sets.candidate);
  const evidence = (set: BehaviourSet, a: TrustModelAnswer | undefined) =>
    `${caseLinks(set, page, a?.cases ?? [])}${a?.detail ? `<br><small>${esc(a.detail)}</small>` : ''}`;
  const change = (t: RunDiff['trustModel'][number]) =>
    `<tr data-question="${esc(t.id)}"><td>${esc(t.field)}</td><td><span class="old">${esc(t.before)}</span><span class="arrow">→</span><span class="new">${esc(t.after)}</span></td><td>${evidence(sets.baseline, before.get(t.id))}</td><td>${evidence(sets.candidate, after.get(t.id))}</td></tr>`;
  const model = d.trustModel.length
    ? `<table id="trust-model-changes"><tr><th>question</th><th>answer</th><th>evidence before</th><th>evidence after</th></tr>${d.trustModel.map(change).join('')}</table>`
    : '<p id="trust-model-changes">No trust-model answer changed.</p>';
  const cases = d.changed.map((c) => caseSide(c.case, c.fields, sets, page)).join('\n');
  const only = (label: string, ids: readonly string[]) =>
    ids.length ? `<p>${esc(label)}: ${ids.map((c) => `<code>${esc(c)}</code>`).join(', ')}</p>` : '';
  const catalogue =
    d.baseline.catalogueRevision !== d.candidate.catalogueRevision
      ? `<p class="muted">The catalogues differ (revision ${esc(d.baseline.catalogueRevision ?? '—')} → ${esc(d.candidate.catalogueRevision ?? '—')}); changed expectations show up as verdict changes.</p>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}${DIFF_STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
<p>Before <code>${esc(d.baseline.source)}</code>, after <code>${esc(d.candidate.source)}</code>. ${d.trustModel.length} trust-model answer(s) and ${d.changed.length + d.added.length + d.removed.length} case(s) changed.</p>
${catalogue}
<h2>Trust model</h2>
${model}
<h2>Cases (${d.changed.length} changed)</h2>
${cases || '<p>No case behaved differently.</p>'}
${only('Only in the candidate', d.added)}${only('Only in the baseline', d.removed)}
</body></html>
`;
}
