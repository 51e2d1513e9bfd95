import { type BehaviourSet, behaviourOf } from './behaviour.ts';
import { compareCase, type FieldChange } from './diff.ts';
import type { CaseRecord } from './record.ts';

/**
 * How a case stands against a baseline of the same model and firmware:
 * - `new`: the baseline did not record this verdict for the case (or has no such case);
 * - `changed`: the same verdict, but the device behaved differently (other codes, alert, SNI…);
 * - `known`: the baseline recorded the same verdict with the same behaviour.
 */
export type Novelty = 'new' | 'changed' | 'known';

export interface BaselineComparison {
  readonly novelty: Novelty;
  /** What differs from the baseline's record of the case (empty for `known`, and for a case it lacks). */
  readonly changes: readonly FieldChange[];
  /** The baseline's verdict under the profile, null when the baseline has no such case. */
  readonly baselineVerdict: string | null;
}

/** A case held against the baseline's record of it, under one profile. */
export function compareWithBaseline(
  record: CaseRecord,
  baseline: BehaviourSet,
  profile: string,
): BaselineComparison {
  const before = baseline.cases.get(record.case);
  if (!before) return { novelty: 'new', changes: [], baselineVerdict: null };
  const changes = compareCase(before, behaviourOf(record));
  const baselineVerdict = before.verdicts[profile] ?? null;
  if (baselineVerdict !== (record.verdicts[profile] ?? null))
    return { novelty: 'new', changes, baselineVerdict };
  return { novelty: changes.length > 0 ? 'changed' : 'known', changes, baselineVerdict };
}
