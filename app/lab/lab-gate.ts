import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { storedBaseline } from '../../reports/baseline.ts';
import { evaluateGate, type FailOn, type GateResult } from '../../reports/quality-gate.ts';
import { latestPerCase, RESULTS_FILE, readRecords } from '../../reports/results-log.ts';
import { readRunManifest } from '../../reports/run-manifest.ts';

export interface DeviceGate {
  readonly device: string;
  /** Null when the device recorded nothing (excluded, or its run failed before the first case). */
  readonly gate: GateResult | null;
  readonly baseline: string | null;
}

/**
 * The quality gate of each device's run folder, against the baseline stored for the model and
 * firmware that device reported (the same rule `trustlab run` applies to a real device).
 */
export function labGates(
  devices: readonly { readonly name: string; readonly runDir: string }[],
  options: { readonly failOn: FailOn; readonly profile: string; readonly baselinesRoot: string },
): DeviceGate[] {
  return devices.map((d) => {
    const file = join(d.runDir, RESULTS_FILE);
    if (!existsSync(file)) return { device: d.name, gate: null, baseline: null };
    const identity = readRunManifest(d.runDir)?.identity;
    const baseline = identity
      ? storedBaseline(options.baselinesRoot, identity.model, identity.firmware)
      : null;
    const gate = evaluateGate(latestPerCase(readRecords(file)), {
      failOn: options.failOn,
      profile: options.profile,
      baseline: baseline?.set ?? null,
    });
    return { device: d.name, gate, baseline: baseline?.source ?? null };
  });
}
