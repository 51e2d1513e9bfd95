import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LabNetwork } from '../contracts/case.ts';
import type { DeviceIdentity } from '../harness/drivers/driver.ts';
import { FAMILY_NAMES } from '../harness/families.ts';
import { openDevice } from '../harness/runner/device.ts';
import type { Fault } from '../harness/virtual-modem/faults.ts';
import {
  HOSTILE_MODES,
  type HostileMode,
  startHostileModule,
} from '../harness/virtual-modem/hostile-module.ts';
import type { SuiteRecord } from './case-record.ts';
import { executeCase } from './execute.ts';
import { defaultMatrix } from './matrix.ts';
import { virtualLabNetwork } from './plan-case.ts';
import { SANITY } from './scenarios.ts';

// A real device's resets are counted in a file; this suite's must not touch the user's.
process.env.TRUSTLAB_RESET_BUDGET = join(
  mkdtempSync(join(tmpdir(), 'trustlab-hostile-budget-')),
  'budget.json',
);

const LAB: LabNetwork = { dialHost: '127.0.0.1', listenHost: '127.0.0.1', dialName: 'hostile.trustlab.test' };
const CASES = defaultMatrix().filter((c) => c.id === SANITY || c.id === 'anchors::wrong-ca');
const SEEDS = [1, 2, 3];
const FAMILIES = FAMILY_NAMES;
const JUDGED = new Set(['conformant', 'lenient', 'strict']);

interface HostileRun {
  readonly opened: string | null;
  readonly identity: DeviceIdentity | null;
  readonly records: readonly SuiteRecord[];
}

/** The small case set on one hostile module over tcp://, as `trustlab run --device` would run it. */
async function runHostile(
  family: string,
  mode: HostileMode,
  seed: number,
  extraFaults: readonly Fault[] = [],
): Promise<HostileRun> {
  const module = await startHostileModule({
    family,
    mode,
    seed,
    network: virtualLabNetwork(LAB),
    extraFaults,
  });
  const outDir = mkdtempSync(join(tmpdir(), `trustlab-hostile-${family}-`));
  try {
    let device: Awaited<ReturnType<typeof openDevice>>;
    try {
      device = await openDevice({ device: module.address, driver: family });
    } catch (error) {
      // A module that cannot even be identified is refused with the reason: no run, no verdict.
      return { opened: (error as Error).message, identity: null, records: [] };
    }
    const records: SuiteRecord[] = [];
    try {
      for (const c of CASES) {
        const { record } = await executeCase(device, c, outDir, LAB, { attempts: 1 });
        records.push(record);
        if (!record.device.healthy) break; // the suite's latch: nothing more runs on a faulty device
      }
    } finally {
      await device.close();
    }
    return { opened: null, identity: device.identity, records };
  } finally {
    await module.stop();
  }
}

/** What every hostile run must satisfy, against the same cases on a well-behaved module. */
function expectSafe(run: HostileRun, clean: HostileRun, what: string): void {
  if (run.opened !== null) {
    expect(run.opened, what).toMatch(/\S/);
    expect(run.records, what).toEqual([]);
    return;
  }
  for (const field of ['manufacturer', 'model', 'firmware'] as const) {
    const value = run.identity?.[field] ?? '';
    expect(value, `${what}: identity ${field}`).toMatch(/^[\x20-\x7e]{1,64}$/);
  }
  const cleanVerdict = new Map(clean.records.map((r) => [r.case, r.verdicts]));
  for (const r of run.records) {
    for (const [profile, verdict] of Object.entries(r.verdicts)) {
      if (!JUDGED.has(verdict)) continue;
      // A verdict a fault produced is worse than none: any verdict given must be the clean one.
      expect(verdict, `${what}: ${r.case} under ${profile} (${r.reason})`).toBe(
        cleanVerdict.get(r.case)?.[profile],
      );
      expect(r.device.healthy, `${what}: ${r.case} judged on a faulty device`).toBe(true);
    }
  }
}

describe.each(FAMILIES)('a hostile %s module over tcp://', (family) => {
  let clean: HostileRun;

  it('well behaved: both cases judged from both ends (the reference for every mode)', async () => {
    clean = await runHostile(family, {}, 0);
    expect(clean.opened).toBeNull();
    expect(clean.records.map((r) => [r.case, r.outcome])).toEqual([
      [SANITY, 'accepted'],
      ['anchors::wrong-ca', 'rejected'],
    ]);
  }, 60_000);

  const runs = Object.keys(HOSTILE_MODES).flatMap((mode) => SEEDS.map((seed) => [mode, seed] as const));
  it.each(runs)(
    '%s, seed %i: no hang, no crash, no verdict a fault produced, a clean identity',
    async (mode, seed) => {
      const run = await runHostile(family, HOSTILE_MODES[mode] as HostileMode, seed);
      expectSafe(run, clean, `${family} ${mode} seed ${seed}`);
    },
    120_000,
  );

  it('property: generated fault schedules never yield a verdict the clean module would not', async () => {
    const commands =
      family === 'quectel'
        ? [
            '^AT\\+QSSLCFG=',
            '^AT\\+QMTCFG=',
            '^AT\\+QMTOPEN=',
            '^AT\\+QMTCONN=',
            '^AT\\+QFUPL=',
            '^AT\\+CCLK',
          ]
        : ['^AT%CMNG=', '^AT#XMQTTCFG=', '^AT#XMQTTCON=', '^AT\\+CFUN', '^AT\\+CMEE'];
    const trigger = fc.record({
      command: fc.constantFrom(...commands),
      occurrence: fc.integer({ min: 1, max: 3 }),
    });
    const fault: fc.Arbitrary<Fault> = fc.oneof(
      trigger.map((on) => ({ kind: 'refuse', on }) as const),
      trigger.map((on) => ({ kind: 'silent-reset', on }) as const),
      trigger.map((on) => ({ kind: 'reboot', on }) as const),
      trigger.map((on) => ({ kind: 'garbage', on }) as const),
      trigger.map((on) => ({ kind: 'slow-answer', on, delayMs: 3_000 }) as const),
      trigger.map((on) => ({ kind: 'pdp-deactivate', on }) as const),
    );
    const line = fc.record({
      segments: fc.boolean(),
      strayUrcs: fc.constantFrom(0, 0.1),
      garbageLines: fc.constantFrom(0, 0.1),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fault, { maxLength: 3 }),
        line,
        fc.integer({ min: 1, max: 1_000 }),
        async (faults, l, seed) => {
          const run = await runHostile(family, { line: l }, seed, faults);
          expectSafe(run, clean, `${family} schedule ${JSON.stringify({ faults, l, seed })}`);
        },
      ),
      { numRuns: 6, seed: 20261202 },
    );
  }, 300_000);
});
