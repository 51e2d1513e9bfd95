import type { BehaviourSet } from './behaviour.ts';
import type { CaseRecord } from './record.ts';
import { judgeRecords } from './reporter-status.ts';

export const FAIL_ON = ['new-findings', 'findings', 'never'] as const;
/** What makes `trustlab run` / `trustlab lab` exit non-zero (`--fail-on`). */
export type FailOn = (typeof FAIL_ON)[number];

export interface GateResult {
  readonly failOn: FailOn;
  readonly profile: string;
  /** Lenient or strict cases under the profile, known ones included. */
  readonly findings: number;
  /** Findings the baseline does not record with the same behaviour (all of them without a baseline). */
  readonly newFindings: number;
  readonly known: number;
  readonly failed: boolean;
  /** One line for the summary. */
  readonly line: string;
}

/** The CI quality gate: counts findings under the profile against the baseline and applies `--fail-on`. */
export function evaluateGate(
  records: readonly CaseRecord[],
  options: { readonly failOn: FailOn; readonly profile: string; readonly baseline?: BehaviourSet | null },
): GateResult {
  const categories = judgeRecords(records, options).map((j) => j.result.category);
  const newFindings = categories.filter((c) => c === 'finding').length;
  const known = categories.filter((c) => c === 'known-finding').length;
  const findings = newFindings + known;
  const failed =
    options.failOn === 'findings'
      ? findings > 0
      : options.failOn === 'new-findings'
        ? newFindings > 0
        : false;
  const counted = `${findings} finding(s) under ${options.profile}, ${newFindings} new or changed, ${known} known`;
  const line =
    options.failOn === 'never'
      ? `findings: ${counted}`
      : `quality gate (--fail-on ${options.failOn}): ${failed ? 'FAILED' : 'passed'} — ${counted}`;
  return { failOn: options.failOn, profile: options.profile, findings, newFindings, known, failed, line };
}
