import type { CaseRecord } from '../record.ts';
import { CARD_STYLE, cardHtml, productCard } from './card.ts';
import type { EvidenceInput } from './facts.ts';
import { controlRows, deviceTitle, runFacts, serverFacts } from './facts.ts';
import { caseAnchor, primaryProfile, verdictMatrix } from './matrix.ts';
import { MATRIX_STYLE, matrixHtml } from './matrix-html.ts';

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** Colours chosen to read at a glance and to survive a greyscale print (light vs dark). */
export const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:24px;color:#1d2329}
h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:28px 0 10px;border-bottom:2px solid #d6dce1;padding-bottom:4px}
h3{font-size:15px;margin:0 0 6px}table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #d6dce1;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f1f4f6;font-weight:600}table.facts th{width:180px}code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{background:#f6f8fa;border:1px solid #d6dce1;padding:8px;overflow-x:auto;max-height:360px}
.v{font-weight:600;border-radius:3px;padding:1px 6px;white-space:nowrap}
.v-conformant{background:#1f883d;color:#fff}.v-lenient{background:#cf222e;color:#fff}.v-strict{background:#e08a00;color:#fff}
.v-inconclusive{background:#d0d7de;color:#1d2329}.v-blocked{background:#57606a;color:#fff}.v-skipped{background:#eaeef2;color:#57606a}
.v-control-failed{background:#8250df;color:#fff}
table.matrix td.cell{text-align:center;min-width:120px}table.matrix td.cell a{display:block;color:inherit;text-decoration:none}
td.cell.v-conformant,td.cell.v-lenient,td.cell.v-strict,td.cell.v-blocked,td.cell.v-control-failed{color:#fff}
.a-yes{color:#1f883d;font-weight:700}.a-no{color:#cf222e;font-weight:700}.a-unknown{color:#57606a;font-weight:700}
section.case{border:1px solid #d6dce1;border-radius:6px;padding:12px 16px;margin:14px 0}
.legend span{margin-right:8px}.muted{color:#57606a}details summary{cursor:pointer;font-weight:600;margin:6px 0}
`;

function factsTable(facts: [string, string][]): string {
  return `<table class="facts">${facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function grid(header: string[], rows: string[][]): string {
  return `<table><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows
    .map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

const verdictBadge = (v: string | undefined) =>
  `<span class="v v-${esc(v ?? 'none')}">${esc(v ?? '—')}</span>`;

function pemLink(r: CaseRecord, input: EvidenceInput): string {
  const pem = input.readRunFile(r.pemFile);
  if (!pem) return '<p class="muted">No PEM bundle recorded for this case.</p>';
  const name = `${r.case.replace(/[^a-z0-9]+/gi, '_')}.pem`;
  const uri = `data:application/x-pem-file;base64,${Buffer.from(pem).toString('base64')}`;
  return `<p><a class="pem" download="${esc(name)}" href="${uri}">Download PEM bundle (${esc(name)})</a> <span class="muted">anchors uploaded, then the chain served</span></p>`;
}

function caseSection(r: CaseRecord, input: EvidenceInput): string {
  const certRows = [
    ...r.certs.anchors.map((c) => [
      'anchor (uploaded)',
      c.subject,
      c.issuer,
      c.serial,
      `${c.notBefore} → ${c.notAfter}`,
      c.sha256,
    ]),
    ...r.certs.served.map((c, i) => [
      `served #${i}`,
      c.subject,
      c.issuer,
      c.serial,
      `${c.notBefore} → ${c.notAfter}`,
      c.sha256,
    ]),
  ];
  const controls = controlRows(r);
  const transcript = input.readRunFile(r.transcriptFile);
  return `<section class="case" id="${caseAnchor(r.case)}">
<h3>${esc(r.case)} ${verdictBadge(r.outcome === 'accepted' || r.outcome === 'rejected' ? r.outcome : r.outcome)}</h3>
<p>${esc(r.title)}</p><p><strong>${esc(r.outcome)}</strong>: ${esc(r.reason)}</p>
<table><tr><th>profile</th><th>verdict</th></tr>${Object.entries(r.verdicts)
    .map(([p, v]) => `<tr><td>${esc(p)}</td><td>${verdictBadge(v)}</td></tr>`)
    .join('')}</table>
<h4>Device settings</h4>${factsTable(Object.entries(r.params).map(([k, v]) => [k, String(v)]))}
<h4>Certificate chain</h4>${certRows.length ? grid(['role', 'subject', 'issuer', 'serial', 'validity', 'SHA-256'], certRows) : '<p class="muted">No certificates (the case did not run).</p>'}
${pemLink(r, input)}
<h4>Server observation</h4>${factsTable(serverFacts(r))}
<p>Modem codes: ${r.codes.length ? r.codes.map((c) => `<code>${esc(c)}</code>`).join(', ') : 'none'}</p>
<h4>Reference controls</h4>${controls ? grid(controls.columns, controls.rows) : '<p class="muted">Not run for this case.</p>'}
<details><summary>AT transcript</summary>${transcript ? `<pre>${esc(transcript.trimEnd())}</pre>` : '<p class="muted">None recorded.</p>'}</details>
</section>`;
}

/** The evidence document as one self-contained HTML file: no external asset; its one inline script only filters the matrix. */
export function renderEvidenceHtml(input: EvidenceInput): string {
  const d = deviceTitle(input);
  const title = `TrustLab evidence — ${d.model} ${d.firmware}`;
  const trust = input.trustModel
    ? `<table id="trust-model"><tr><th>question</th><th>answer</th><th>evidence</th><th>detail</th></tr>${input.trustModel
        .map(
          (a) =>
            `<tr><td>${esc(a.question)}</td><td class="a-${a.answer}">${a.answer}</td><td>${
              a.cases.map((c) => `<a href="#${caseAnchor(c)}">${esc(c)}</a>`).join(', ') || '—'
            }</td><td>${esc(a.detail ?? '')}</td></tr>`,
        )
        .join('')}</table>`
    : '<p id="trust-model" class="muted">The trust-anchor model was not inferred in this run (no trust-model.json).</p>';
  const profile = primaryProfile(input.records);
  const m = verdictMatrix(input.records);
  const profiles = [...new Set(input.records.flatMap((r) => Object.keys(r.verdicts)))];
  const matrix = matrixHtml(m, profiles.length ? profiles : [profile], profile);
  const legend = ['conformant', 'lenient', 'strict', 'inconclusive', 'blocked', 'skipped', 'control-failed']
    .map((v) => verdictBadge(v))
    .join(' ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}${MATRIX_STYLE}${CARD_STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
${cardHtml(productCard(input), (id) => `#${caseAnchor(id)}`)}
${factsTable(runFacts(input))}
<h2>Inferred trust-anchor model</h2>
${trust}
<h2>Verdict matrix (<span id="matrix-profile-name">${esc(profile)}</span>)</h2>
<p class="legend">Rows are scenarios by family; columns are how the settings differ from this run's defaults (hover a column for all its settings). ${legend}</p>
${matrix}
<h2>Cases (${input.records.length})</h2>
${input.records.map((r) => caseSection(r, input)).join('\n')}
</body></html>
`;
}
