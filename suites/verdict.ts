import type { CaseOutcome } from '../contracts/case.ts';
import type { Expectation } from './profiles.ts';

/**
 * - conformant: did what the profile says.
 * - lenient: accepted what the profile rejects (a security finding).
 * - strict: rejected what the profile accepts (an interoperability finding).
 * - inconclusive / blocked / skipped: no TLS verdict could be formed.
 * - not-applicable: the device has no way to be asked what the case asks (a setting it lacks).
 */
export type Verdict =
  | 'conformant'
  | 'lenient'
  | 'strict'
  | 'inconclusive'
  | 'blocked'
  | 'skipped'
  | 'not-applicable'
  | 'control-failed';

export function judge(outcome: CaseOutcome, expected: Expectation): Verdict {
  switch (outcome) {
    case 'accepted':
      return expected === 'accept' ? 'conformant' : 'lenient';
    case 'rejected':
      return expected === 'reject' ? 'conformant' : 'strict';
    default:
      return outcome;
  }
}
