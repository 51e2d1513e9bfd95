import type { CaseRecord } from '../record.ts';
import { deviceTitle, type EvidenceInput } from './facts.ts';
import { caseAnchor, primaryProfile } from './matrix.ts';
import { QUESTIONS, type QuestionId } from './questions.ts';
import type { TrustModelAnswer } from './trust-model.ts';

/**
 * The decisions a product team makes from a trust model, each with the questions that answer it
 * (by id prefix). A question no group claims lands in the last group, so none is ever dropped.
 */
const DECISIONS: readonly { readonly title: string; readonly prefixes: readonly string[] }[] = [
  {
    title: 'Which CA the modem trusts',
    prefixes: ['anchors.', 'chain.unrelated-root', 'switch.no-verification', 'root.', 'uploads.'],
  },
  { title: 'Server name', prefixes: ['names.', 'sni.'] },
  { title: 'Clock and validity', prefixes: ['validity.', 'switch.ignore-clock'] },
  {
    title: 'Chains, keys and signatures',
    prefixes: ['chain.', 'chains.', 'keys.', 'signatures.', 'switch.', 'extensions.', 'size.'],
  },
  { title: 'TLS protocol', prefixes: ['tls.', 'client.'] },
  { title: 'CA rotation in the field', prefixes: ['rotation.'] },
];
const OTHER = 'Other behaviour';

export interface CardLine {
  /** The question as a statement: "Trusts the uploaded CA". */
  readonly statement: string;
  readonly answer: TrustModelAnswer['answer'];
  /** Why, for `unknown` and `not-applicable` (and any answer with a detail). */
  readonly why: string | null;
  readonly cases: readonly string[];
}

export interface CardFinding {
  readonly caseId: string;
  readonly verdict: string;
  readonly title: string;
  readonly outcome: string;
  readonly reason: string;
}

export interface ProductCard {
  readonly device: ReturnType<typeof deviceTitle>;
  readonly harness: string;
  readonly date: string;
  readonly profile: string;
  readonly groups: readonly { readonly title: string; readonly lines: readonly CardLine[] }[];
  /** Cases whose verdict under the profile is lenient or strict: what would surprise a customer. */
  readonly findings: readonly CardFinding[];
  /** Why there is no trust model, when there is none. */
  readonly missing: string | null;
  /**
   * Questions no case of this run asked (their cases did not run: ladders run with --full): named
   * in one line, so the page keeps to what was measured and drops nothing.
   */
  readonly notAsked: readonly string[];
}

/** An answer no case of the run bears on: nothing was measured. */
const notAsked = (a: TrustModelAnswer) => a.answer === 'unknown' && a.cases.length === 0;

const statementOf = (a: TrustModelAnswer) => (QUESTIONS[a.id as QuestionId] ?? a.question).replace(/\?$/, '');

function groupOf(id: string): string {
  return DECISIONS.find((d) => d.prefixes.some((p) => id.startsWith(p)))?.title ?? OTHER;
}

const SURPRISING = new Set(['lenient', 'strict']);

function findingsOf(records: readonly CaseRecord[], profile: string): CardFinding[] {
  return records
    .filter((r) => SURPRISING.has(r.verdicts[profile] ?? ''))
    .map((r) => ({
      caseId: r.case,
      verdict: r.verdicts[profile] as string,
      title: r.title,
      outcome: r.outcome,
      reason: r.reason,
    }));
}

/** The product-spec card of a run: its trust model in plain statements grouped by decision, then its surprises. */
export function productCard(input: EvidenceInput, profile = primaryProfile(input.records)): ProductCard {
  const m = input.manifest;
  const byGroup = new Map<string, CardLine[]>();
  for (const a of (input.trustModel ?? []).filter((x) => !notAsked(x))) {
    const lines = byGroup.get(groupOf(a.id)) ?? [];
    lines.push({
      statement: statementOf(a),
      answer: a.answer,
      why: a.detail ?? (a.answer === 'unknown' ? 'no case in this run decided it' : null),
      cases: a.cases,
    });
    byGroup.set(groupOf(a.id), lines);
  }
  const order = [...DECISIONS.map((d) => d.title), OTHER];
  return {
    device: deviceTitle(input),
    harness: m?.harness
      ? `TrustLab ${m.harness.version} @ ${m.harness.commit?.slice(0, 12) ?? 'no git'}${m.harness.dirty ? ' (uncommitted changes)' : ''}`
      : 'TrustLab (revision not recorded)',
    date: m?.endedAt ?? m?.startedAt ?? input.records.at(-1)?.endedAt ?? 'not recorded',
    profile,
    groups: order.flatMap((title) => {
      const lines = byGroup.get(title);
      return lines ? [{ title, lines }] : [];
    }),
    findings: findingsOf(input.records, profile),
    missing: input.trustModel ? null : 'no trust-model.json in this run: the trust model was not inferred',
    notAsked: (input.trustModel ?? []).filter(notAsked).map(statementOf),
  };
}

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** How many findings the one page lists before it says how many more there are. */
const FINDINGS_SHOWN = 6;
/** Case links per statement on the card; the evidence page lists them all. */
const CASES_SHOWN = 2;

/** Sized to fit one printed A4 page with the whole default model; read on a phone as one column. */
export const CARD_STYLE = `
.card{font-size:12px;line-height:1.35;overflow-wrap:anywhere}.card h2{margin:10px 0 6px}.card .who{margin:0 0 8px;color:#57606a}
.card .groups{columns:2 320px;column-gap:20px}.card .group{break-inside:avoid;margin:0 0 8px}
.card h3{font-size:12.5px;margin:0 0 2px}.card ul{margin:0;padding-left:16px}.card li{margin:0 0 1px}
.card .why{color:#57606a}.card .findings li{margin-bottom:2px}
@media print{body{max-width:none;padding:0}.card{font-size:8.5px;line-height:1.3}.card h2{font-size:14px}.card h3{font-size:9.5px}@page{size:A4;margin:9mm}}
`;

/**
 * The card as an HTML fragment. `caseHref` makes each case link (within the evidence page, or
 * from the standalone card to the evidence file beside it).
 */
export function cardHtml(card: ProductCard, caseHref: (caseId: string) => string): string {
  const link = (id: string) => `<a href="${esc(caseHref(id))}">${esc(id)}</a>`;
  const answer = (a: CardLine['answer']) =>
    `<strong class="a-${a === 'not-applicable' ? 'unknown' : a}">${a}</strong>`;
  const line = (l: CardLine) =>
    `<li>${esc(l.statement)}: ${answer(l.answer)}${
      l.why && (l.answer === 'unknown' || l.answer === 'not-applicable')
        ? ` <span class="why">— ${esc(l.why)}</span>`
        : ''
    }${l.cases.length ? ` <span class="why">(${l.cases.slice(0, CASES_SHOWN).map(link).join(', ')}${l.cases.length > CASES_SHOWN ? ` +${l.cases.length - CASES_SHOWN}` : ''})</span>` : ''}</li>`;
  const groups = card.groups
    .map((g) => `<div class="group"><h3>${esc(g.title)}</h3><ul>${g.lines.map(line).join('')}</ul></div>`)
    .join('');
  const shown = card.findings.slice(0, FINDINGS_SHOWN);
  const more = card.findings.length - shown.length;
  const findings = card.findings.length
    ? `<ul class="findings">${shown
        .map(
          (f) =>
            `<li><span class="v v-${esc(f.verdict)}">${esc(f.verdict)}</span> ${link(f.caseId)}: ${esc(f.title)} — ${esc(f.outcome)}</li>`,
        )
        .join('')}${more > 0 ? `<li>and ${more} more (see the verdict matrix)</li>` : ''}</ul>`
    : `<p>None: every case behaved as ${esc(card.profile)} expects.</p>`;
  return `<section class="card" id="card">
<h2>Product-spec card — ${esc(card.device.model)} ${esc(card.device.firmware)}</h2>
<p class="who">${esc(card.device.label)} · IMEI ${esc(card.device.imei)} · ${esc(card.harness)} · ${esc(card.date)}</p>
${card.missing ? `<p class="why">${esc(card.missing)}</p>` : `<div class="groups">${groups}</div>`}
${card.notAsked.length ? `<p class="why">Not asked in this run (no case ran): ${card.notAsked.map(esc).join('; ')}.</p>` : ''}
<h3>Findings that would surprise a customer (${esc(card.profile)}: ${card.findings.length})</h3>
${findings}
</section>`;
}

/** The card alone, as one self-contained page (linking to the evidence file beside it). */
export function renderCardPage(card: ProductCard, baseStyle: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>TrustLab card — ${esc(card.device.model)} ${esc(card.device.firmware)}</title><style>${baseStyle}${CARD_STYLE}</style></head>
<body>
${cardHtml(card, (id) => `evidence.html#${caseAnchor(id)}`)}
</body></html>
`;
}

/** The card as Markdown, for the top of evidence.md. */
export function cardMarkdown(card: ProductCard): string[] {
  const link = (id: string) => `[${id}](#${caseAnchor(id)})`;
  const out = [
    `## Product-spec card — ${card.device.model} ${card.device.firmware}`,
    '',
    `${card.device.label} · IMEI ${card.device.imei} · ${card.harness} · ${card.date}`,
    '',
  ];
  if (card.missing) out.push(card.missing, '');
  for (const g of card.groups) {
    out.push(`**${g.title}**`, '');
    for (const l of g.lines) {
      const why = l.why && (l.answer === 'unknown' || l.answer === 'not-applicable') ? ` — ${l.why}` : '';
      const cases = l.cases.length ? ` (${l.cases.map(link).join(', ')})` : '';
      out.push(`- ${l.statement}: **${l.answer}**${why}${cases}`);
    }
    out.push('');
  }
  if (card.notAsked.length > 0)
    out.push(`Not asked in this run (no case ran): ${card.notAsked.join('; ')}.`, '');
  out.push(`**Findings that would surprise a customer (${card.profile}: ${card.findings.length})**`, '');
  if (card.findings.length === 0) out.push(`None: every case behaved as ${card.profile} expects.`);
  for (const f of card.findings.slice(0, FINDINGS_SHOWN))
    out.push(`- ${f.verdict}: ${link(f.caseId)} — ${f.title} (${f.outcome})`);
  if (card.findings.length > FINDINGS_SHOWN)
    out.push(`- and ${card.findings.length - FINDINGS_SHOWN} more (see the verdict matrix)`);
  out.push('');
  return out;
}
