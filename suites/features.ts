import type { CaseRecord } from '../reports/record.ts';
import type { Feature, Scenario } from './scenario-model.ts';
import { PROBES } from './scenarios.ts';

/** What the probes showed: present, absent (with the evidence), or not established. */
export type FeatureState = { readonly present: boolean; readonly why: string };

/** The feature a probe shows, from its record: refusing the probe's defect means the check exists. */
export function featureFromProbe(record: CaseRecord): [Feature, FeatureState] | null {
  const feature = PROBES[record.case];
  if (!feature) return null;
  const confirmed = !Object.values(record.verdicts).includes('control-failed');
  if (!confirmed) return null;
  if (record.outcome === 'rejected') return [feature, { present: true, why: `${record.case} was refused` }];
  if (record.outcome === 'accepted') {
    return [
      feature,
      { present: false, why: `${record.case} was accepted, so the device does not have ${feature}` },
    ];
  }
  return null;
}

/** Why a scenario cannot say anything on this device, or null when it can run. Unknown features do not block. */
export function missingFeature(
  scenario: Scenario,
  features: ReadonlyMap<Feature, FeatureState>,
): string | null {
  for (const need of scenario.requires) {
    const state = features.get(need);
    if (state && !state.present) return `needs ${need}: ${state.why}`;
  }
  return null;
}
