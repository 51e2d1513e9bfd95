import { resolve } from 'node:path';
import { storedBaseline } from '../../reports/baseline.ts';
import { type BehaviourSet, loadBehaviour } from '../../reports/behaviour.ts';
import { FAIL_ON, type FailOn } from '../../reports/quality-gate.ts';
import type { RunManifest } from '../../reports/run-manifest.ts';
import { DEFAULT_PROFILE } from '../../reports/write-run-reports.ts';
import { PROFILE_NAMES } from '../../suites/profiles.ts';
import { DEFAULT_BASELINES } from './baseline-command.ts';

/** The flags that decide how a run is judged for dashboards and the quality gate. */
export interface ReportingFlags {
  /** The profile dashboards (Allure, JUnit) and the quality gate judge by (default rfc5280). */
  readonly profile?: string;
  /** A baseline folder (or run folder) whose findings are known, or `stored`, or `none`. */
  readonly baseline?: string;
  /** What sets a non-zero exit code: new-findings, findings, never (default). */
  readonly failOn?: string;
  /** Allure history file or folder kept between runs. */
  readonly allureHistory?: string;
}

export type LoadedBaseline = { readonly set: BehaviourSet; readonly source: string };

export interface ReportingPlan {
  readonly profile: string;
  readonly failOn: FailOn;
  /** A loaded baseline, `stored` (looked up once the device has said what it is), or none. */
  readonly baseline: LoadedBaseline | 'stored' | null;
}

/** A flag the user got wrong: the message says which and what it takes. */
export class ReportingFlagError extends Error {}

/**
 * Checks the reporting flags before anything runs. `defaultBaseline` applies without --baseline:
 * a real device uses the baseline stored for the model and firmware it reports; the virtual modem
 * uses none, because it reports a real module's identity and its runs would be taken for that
 * firmware's.
 */
export function planReporting(flags: ReportingFlags, defaultBaseline: 'stored' | 'none'): ReportingPlan {
  const profile = flags.profile ?? DEFAULT_PROFILE;
  if (!(PROFILE_NAMES as readonly string[]).includes(profile)) {
    throw new ReportingFlagError(`--profile ${profile}: expected one of ${PROFILE_NAMES.join(', ')}`);
  }
  const failOn = (flags.failOn ?? 'never') as FailOn;
  if (!FAIL_ON.includes(failOn)) {
    throw new ReportingFlagError(`--fail-on ${flags.failOn}: expected one of ${FAIL_ON.join(', ')}`);
  }
  const given = flags.baseline ?? defaultBaseline;
  if (given === 'none') return { profile, failOn, baseline: null };
  if (given === 'stored') return { profile, failOn, baseline: 'stored' };
  try {
    return { profile, failOn, baseline: { set: loadBehaviour(resolve(given)), source: resolve(given) } };
  } catch (error) {
    throw new ReportingFlagError(`--baseline ${given}: ${(error as Error).message}`);
  }
}

/** The plan's baseline, with `stored` looked up for the model and firmware the run recorded. */
export function resolveBaseline(plan: ReportingPlan, manifest: RunManifest | null): LoadedBaseline | null {
  if (plan.baseline !== 'stored') return plan.baseline;
  const identity = manifest?.identity;
  return identity ? storedBaseline(DEFAULT_BASELINES, identity.model, identity.firmware) : null;
}
