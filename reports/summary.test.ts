import { describe, expect, it } from 'vitest';
import type { CaseRecord } from './record.ts';
import { renderSummary } from './summary.ts';
import { fakeRecord } from './testing/fake-record.ts';

function record(id: string, outcome: CaseRecord['outcome'], rfc5280: string): CaseRecord {
  return fakeRecord(id, {
    outcome,
    verdicts: { rfc5280, 'mbedtls-2.28': 'conformant' },
    codes: ['+QMTOPEN: 1,0'],
  });
}

describe('renderSummary', () => {
  const records = [
    ...Array.from({ length: 80 }, (_, i) => record(`ok::case-${i}`, 'accepted', 'conformant')),
    ...Array.from({ length: 14 }, (_, i) => record(`bad::lenient-${i}`, 'accepted', 'lenient')),
    record('x::inconclusive', 'inconclusive', 'inconclusive'),
  ];
  const text = renderSummary(records, '/out/report.md', ['evidence: /out/evidence.html']);
  const lines = text.trimEnd().split('\n');

  it('stays within one screen however many cases ran', () => {
    expect(lines.length).toBeLessThanOrEqual(40);
  });

  it('counts outcomes and verdicts per profile', () => {
    expect(text).toContain('95 cases: 94 accepted, 0 rejected, 1 inconclusive');
    expect(text).toMatch(/rfc5280\s+80 conformant, 14 lenient, 1 inconclusive/);
  });

  it('names the first findings and says how many more the report has', () => {
    expect(text).toContain('rfc5280 findings (14):');
    expect(text).toContain('bad::lenient-0');
    expect(text).not.toContain('bad::lenient-13');
    expect(text).toContain('… 4 more in the report');
    expect(text).toContain('x::inconclusive  inconclusive: reason of x::inconclusive');
  });

  it('ends with the report path, after the extras', () => {
    expect(lines.at(-1)).toBe('  report: /out/report.md');
    expect(lines.at(-2)).toBe('  evidence: /out/evidence.html');
  });
});
