import type { BehaviourSet } from './behaviour.ts';
import { type BaselineComparison, compareWithBaseline } from './known-findings.ts';
import { printable } from './printable.ts';
import type { CaseRecord } from './record.ts';

/** The statuses test dashboards know (Allure's; JUnit maps them to pass / failure / error / skipped). */
export type ReporterStatus = 'passed' | 'failed' | 'broken' | 'skipped';

/**
 * Why a case has its status, so dashboards can tell a device finding from a harness fault:
 * - `conformant`: the device did what the profile says;
 * - `finding`: lenient or strict under the profile, new or changed since the baseline;
 * - `known-finding`: a finding the baseline already records with the same behaviour;
 * - `no-verdict`: inconclusive, or the reference controls did not confirm the case;
 * - `harness-fault`: the harness's own consistency checks failed for this case;
 * - `not-run`: blocked, skipped or not applicable to this device.
 */
export type ReporterCategory =
  | 'conformant'
  | 'finding'
  | 'known-finding'
  | 'no-verdict'
  | 'harness-fault'
  | 'not-run';

export interface ReporterResult {
  readonly status: ReporterStatus;
  readonly category: ReporterCategory;
  /** One line for the dashboard; null when the case passed with nothing to say. */
  readonly message: string | null;
  /** Present when a baseline was given. */
  readonly baseline: BaselineComparison | null;
}

export interface ReporterContext {
  /** The profile the dashboard judges by (`--profile`, default rfc5280). */
  readonly profile: string;
  /** The baseline of the same model and firmware whose findings are known, if any. */
  readonly baseline?: BehaviourSet | null;
  /** The harness's consistency-check failure for this case, if its check failed. */
  readonly harnessFault?: string | null;
}

/** `anchors::wrong-ca` → `anchors`: the family a scenario id names before `::`. */
export const scenarioFamily = (caseId: string) => caseId.split('::')[0] ?? caseId;

const WHAT_A_FINDING_IS: Readonly<Record<string, string>> = {
  lenient: 'accepted what the profile rejects',
  strict: 'rejected what the profile accepts',
};

function findingMessage(r: CaseRecord, verdict: string, profile: string): string {
  const codes = r.codes.length > 0 ? ` [codes: ${r.codes.join('; ')}]` : '';
  return `[${scenarioFamily(r.case)}] ${verdict} under ${profile}: the device ${WHAT_A_FINDING_IS[verdict]} — ${r.outcome}: ${r.reason}${codes}`;
}

function changedFields(comparison: BaselineComparison): string {
  return comparison.changes
    .slice(0, 4)
    .map((c) => `${c.field} ${c.before} → ${c.after}`)
    .join('; ');
}

/**
 * A case's result for reporters, from its verdict under the chosen profile: conformant → passed;
 * lenient or strict → failed (a finding), or skipped as a known finding when the baseline records
 * the same behaviour; inconclusive / control-failed → broken; blocked, skipped, not-applicable →
 * skipped with the reason. A failed consistency check is broken, in its own category.
 */
export function reporterResult(record: CaseRecord, context: ReporterContext): ReporterResult {
  const { profile } = context;
  const verdict = record.verdicts[profile];
  const baseline = context.baseline ? compareWithBaseline(record, context.baseline, profile) : null;
  const result = (status: ReporterStatus, category: ReporterCategory, message: string | null) => ({
    status,
    category,
    message: message === null ? null : printable(message),
    baseline,
  });
  if (context.harnessFault) {
    return result('broken', 'harness-fault', `harness fault: ${context.harnessFault}`);
  }
  switch (verdict) {
    case 'conformant':
      return result('passed', 'conformant', null);
    case 'lenient':
    case 'strict': {
      const finding = findingMessage(record, verdict, profile);
      if (baseline?.novelty === 'known') {
        return result('skipped', 'known-finding', `known finding (in the baseline): ${finding}`);
      }
      if (baseline?.novelty === 'changed') {
        return result(
          'failed',
          'finding',
          `${finding} (changed since the baseline: ${changedFields(baseline)})`,
        );
      }
      const since =
        baseline && baseline.baselineVerdict !== null
          ? ` (new: the baseline had ${baseline.baselineVerdict})`
          : '';
      return result('failed', 'finding', `${finding}${since}`);
    }
    case 'inconclusive':
    case 'control-failed':
      return result('broken', 'no-verdict', `${verdict}: ${record.reason}`);
    case 'blocked':
    case 'skipped':
    case 'not-applicable':
      return result('skipped', 'not-run', `${verdict}: ${record.reason}`);
    default:
      return result(
        'broken',
        'no-verdict',
        `no verdict under ${profile} in the record (${verdict ?? 'absent'})`,
      );
  }
}

/** How a whole run is judged for dashboards: the profile, the baseline, the harness's own faults. */
export interface RunJudging {
  readonly profile: string;
  readonly baseline?: BehaviourSet | null;
  /** Case id → the harness consistency check's failure message. */
  readonly harnessFaults?: ReadonlyMap<string, string>;
}

/** Every record with its dashboard result, in the records' order. */
export function judgeRecords(
  records: readonly CaseRecord[],
  judging: RunJudging,
): { readonly record: CaseRecord; readonly result: ReporterResult }[] {
  return records.map((record) => ({
    record,
    result: reporterResult(record, {
      profile: judging.profile,
      baseline: judging.baseline ?? null,
      harnessFault: judging.harnessFaults?.get(record.case) ?? null,
    }),
  }));
}
