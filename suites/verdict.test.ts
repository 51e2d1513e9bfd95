import { describe, expect, it } from 'vitest';
import { judge } from './verdict.ts';

describe('judge', () => {
  it.for([
    ['accepted', 'accept', 'conformant'],
    ['rejected', 'reject', 'conformant'],
    ['accepted', 'reject', 'lenient'],
    ['rejected', 'accept', 'strict'],
    ['inconclusive', 'accept', 'inconclusive'],
    ['blocked', 'reject', 'blocked'],
  ] as const)('%s against %s is %s', ([outcome, expected, verdict]) => {
    expect(judge(outcome, expected)).toBe(verdict);
  });
});
