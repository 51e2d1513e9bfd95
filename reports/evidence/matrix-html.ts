import type { CaseRecord } from '../record.ts';
import { caseAnchor, cellKey, type VerdictMatrix } from './matrix.ts';

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** Sticky headers need the table in its own scrolling box; on a phone wide tables scroll inside themselves, never the page. */
export const MATRIX_STYLE = `
.matrix-wrap{overflow:auto;max-height:80vh;border:1px solid #d6dce1;margin:6px 0 12px}
table.matrix{margin:0}table.matrix thead th{position:sticky;top:0;z-index:2}
table.matrix tbody th{position:sticky;left:0;background:#f1f4f6;z-index:1;white-space:nowrap}
table.matrix tr.family th{background:#e2e8ee;text-transform:uppercase;font-size:12px;letter-spacing:.04em}
table.matrix th.variation{cursor:help}.filters label{margin-right:14px}
@media (max-width:640px){body{padding:10px}table.matrix td.cell{min-width:84px}
table:not(.matrix){display:block;overflow-x:auto;max-width:100%}td,th,h1,h2,h3,p{overflow-wrap:anywhere}pre{max-width:100%;box-sizing:border-box}}
`;

/** Switches the colouring profile and hides families; the page works without it (rfc5280, all shown). */
const FILTER_SCRIPT = `
(()=>{const t=document.getElementById('matrix');const p=document.getElementById('matrix-profile');const f=document.getElementById('matrix-family');
const paint=()=>{for(const td of t.querySelectorAll('td.cell[data-case]')){const v=td.getAttribute('data-v-'+p.value)||'none';td.className='cell v-'+v;td.querySelector('.verdict').textContent=v;}
for(const tr of t.querySelectorAll('tbody tr')){tr.hidden=f.value!==''&&tr.getAttribute('data-family')!==f.value;}
document.getElementById('matrix-profile-name').textContent=p.value;};
p.addEventListener('change',paint);f.addEventListener('change',paint);paint();})();
`;

function cell(r: CaseRecord | undefined, profile: string): string {
  if (!r) return '<td class="cell empty"></td>';
  const v = r.verdicts[profile] ?? r.outcome;
  const perProfile = Object.entries(r.verdicts);
  const data = perProfile.map(([p, pv]) => ` data-v-${esc(p)}="${esc(pv)}"`).join('');
  const title = perProfile.map(([p, pv]) => `${p}: ${pv}`).join('\n');
  return `<td class="cell v-${esc(v)}" data-case="${esc(r.case)}"${data} title="${esc(`${r.case}\n${title}`)}"><a href="#${caseAnchor(r.case)}"><span class="verdict">${esc(v)}</span><br><small>${esc(r.outcome)}</small></a></td>`;
}

/**
 * The verdict matrix as a person reads it: rows are scenarios grouped by family, columns are how
 * the settings vary from the run's defaults (full settings on hover and in the legend below),
 * coloured by the chosen profile's verdict; every case of the run has its cell.
 */
export function matrixHtml(m: VerdictMatrix, profiles: readonly string[], primary: string): string {
  const option = (value: string, label: string, selected: boolean) =>
    `<option value="${esc(value)}"${selected ? ' selected' : ''}>${esc(label)}</option>`;
  const filters = `<p class="filters"><label>Profile <select id="matrix-profile">${profiles
    .map((p) => option(p, p, p === primary))
    .join('')}</select></label><label>Family <select id="matrix-family">${option('', 'all', true)}${m.families
    .map((g) => option(g.family, g.family, false))
    .join('')}</select></label></p>`;
  const head = `<thead><tr><th>scenario</th>${m.columns
    .map((c) => `<th class="variation" title="${esc(m.columnSettings.get(c) ?? c)}">${esc(c)}</th>`)
    .join('')}</tr></thead>`;
  const body = m.families
    .map(
      (g) =>
        `<tr class="family" data-family="${esc(g.family)}"><th colspan="${m.columns.length + 1}">${esc(g.family)}</th></tr>${g.rows
          .map(
            (row) =>
              `<tr data-family="${esc(g.family)}"><th>${esc(row)}</th>${m.columns
                .map((col) => cell(m.cells.get(cellKey(row, col)), primary))
                .join('')}</tr>`,
          )
          .join('')}`,
    )
    .join('');
  const legend = `<table class="columns"><tr><th>column</th><th>settings</th></tr>${m.columns
    .map((c) => `<tr><td>${esc(c)}</td><td><code>${esc(m.columnSettings.get(c) ?? '')}</code></td></tr>`)
    .join('')}</table>`;
  return `${filters}<div class="matrix-wrap"><table class="matrix" id="matrix">${head}<tbody>${body}</tbody></table></div>
<details><summary>Columns: the full settings of each variation</summary>${legend}</details>
<script>${FILTER_SCRIPT}</script>`;
}
