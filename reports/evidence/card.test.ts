import { describe, expect, it } from 'vitest';
import type { CaseRecord } from '../record.ts';
import { cardHtml, productCard } from './card.ts';
import { QUESTIONS, type QuestionId } from './questions.ts';
import type { TrustModelAnswer } from './trust-model.ts';

const ids = Object.keys(QUESTIONS) as QuestionId[];

const model: TrustModelAnswer[] = ids.map((id, i) => ({
  id,
  question: QUESTIONS[id],
  answer: (['yes', 'no', 'unknown', 'not-applicable'] as const)[i % 4] as TrustModelAnswer['answer'],
  cases: [`case::${i}`],
  ...(i % 4 >= 2 ? { detail: `reason ${i}` } : {}),
}));

const record = (id: string, verdict: string) =>
  ({
    case: id,
    title: `title of ${id}`,
    outcome: 'accepted',
    reason: 'r',
    verdicts: { rfc5280: verdict },
  }) as unknown as CaseRecord;

const input = (trustModel: TrustModelAnswer[] | null) => ({
  records: [record('a::ok', 'conformant'), record('a::lenient', 'lenient'), record('a::strict', 'strict')],
  manifest: null,
  trustModel,
  readRunFile: () => null,
});

describe('the product-spec card', () => {
  it('states every answer once, grouped by decision, with the reason for unknown and not-applicable', () => {
    const card = productCard(input(model));
    const lines = card.groups.flatMap((g) => g.lines);
    expect(lines.map((l) => l.statement).sort()).toEqual(
      ids.map((id) => QUESTIONS[id].replace(/\?$/, '')).sort(),
    );
    expect(card.groups.map((g) => g.title)).toContain('Server name');
    const sni = card.groups.find((g) => g.title === 'Server name')?.lines.map((l) => l.statement) ?? [];
    expect(sni).toContain('Checks the hostname with SNI off');
    for (const l of lines)
      if (l.answer === 'unknown' || l.answer === 'not-applicable') expect(l.why).toMatch(/^reason \d+$/);
  });

  it('lists the lenient and strict cases as findings, linked to their evidence', () => {
    const card = productCard(input(model));
    expect(card.findings.map((f) => [f.caseId, f.verdict])).toEqual([
      ['a::lenient', 'lenient'],
      ['a::strict', 'strict'],
    ]);
    const html = cardHtml(card, (id) => `evidence.html#${id}`);
    expect(html).toContain('href="evidence.html#a::lenient"');
    expect(html).toContain('— reason 2');
  });

  it('names the questions no case of the run asked in one line, and keeps every other answer', () => {
    const unasked = ids[0] as QuestionId;
    const withUnasked = model.map((a) =>
      a.id === unasked ? { ...a, answer: 'unknown' as const, cases: [] } : a,
    );
    const card = productCard(input(withUnasked));
    const statement = QUESTIONS[unasked].replace(/\?$/, '');
    expect(card.notAsked).toEqual([statement]);
    expect(card.groups.flatMap((g) => g.lines).map((l) => l.statement)).not.toContain(statement);
    expect(card.groups.flatMap((g) => g.lines)).toHaveLength(ids.length - 1);
    expect(cardHtml(card, (id) => id)).toContain(`Not asked in this run (no case ran): ${statement}.`);
  });

  it('says why there is no model instead of an empty card', () => {
    const card = productCard(input(null));
    expect(card.groups).toEqual([]);
    expect(cardHtml(card, (id) => id)).toContain('the trust model was not inferred');
  });
});
