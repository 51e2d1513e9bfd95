import { describe, expect, it } from 'vitest';
import { compareTrustModels, renderComparisonMarkdown } from './compare.ts';
import type { TrustModelAnswer } from './trust-model.ts';

const a = (
  id: TrustModelAnswer['id'],
  answer: TrustModelAnswer['answer'],
  detail: string,
): TrustModelAnswer => ({
  id,
  question: 'reworded in an older run',
  answer,
  cases: [],
  detail,
});

describe('compareTrustModels', () => {
  const one = {
    label: 'A',
    answers: [a('sni.sent', 'yes', 'sent "x"'), a('tls.tls13.spoken', 'no', 'refused | twin accepted')],
  };
  const two = {
    label: 'B',
    answers: [a('sni.sent', 'yes', 'sent "y"'), a('tls.tls13.spoken', 'yes', 'accepted')],
  };

  it('keys questions by id, keeps only those answered differently, with each reason', () => {
    const c = compareTrustModels([one, two]);
    expect(c.same).toBe(1);
    expect(c.differing).toEqual([
      {
        id: 'tls.tls13.spoken',
        question: 'Speaks TLS 1.3 (connects to a TLS 1.3-only broker)?',
        answers: [
          { label: 'A', answer: 'no', why: 'refused | twin accepted' },
          { label: 'B', answer: 'yes', why: 'accepted' },
        ],
      },
    ]);
    expect(renderComparisonMarkdown(c)).toContain(
      '| **no**: refused \\| twin accepted | **yes**: accepted |',
    );
  });

  it('a question one run never asked is a difference, shown as absent', () => {
    const c = compareTrustModels([one, { label: 'C', answers: [a('sni.sent', 'yes', '')] }]);
    expect(c.differing.map((q) => q.answers.map((x) => x.answer))).toEqual([['no', 'absent']]);
  });
});
