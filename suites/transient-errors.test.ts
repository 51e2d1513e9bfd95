import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOOPBACK_LAB } from '../contracts/case.ts';
import { openDevice } from '../harness/runner/device.ts';
import type { Fault } from '../harness/virtual-modem/faults.ts';
import { executeCase } from './execute.ts';
import { defaultMatrix } from './matrix.ts';
import { virtualLabNetwork } from './plan-case.ts';
import { SANITY } from './scenarios.ts';

const SNI_SET = '^AT\\+QSSLCFG="sni",1,';

/** From scratch: the case restores at its own end, so a refused restore is the case's. */
async function sanityWith(faults: readonly Fault[], delta = false) {
  const device = await openDevice({
    driver: 'quectel',
    network: virtualLabNetwork(LOOPBACK_LAB),
    virtualModem: { faults },
    delta,
  });
  const c = defaultMatrix().find((m) => m.id === SANITY);
  if (!c) throw new Error('no sanity case');
  const outDir = mkdtempSync(join(tmpdir(), 'trustlab-transient-'));
  try {
    const { record } = await executeCase(device, c, outDir, LOOPBACK_LAB, { attempts: 1 });
    const transcript = readFileSync(join(outDir, record.transcriptFile ?? ''), 'utf8');
    const restoreFailures = await device.restore();
    return { record, transcript, restoreFailures, fired: device.virtualModem?.faultsFired() ?? [] };
  } finally {
    await device.close();
  }
}

describe('a refused setting or restore is tried again; only a device that stays wrong is unhealthy', () => {
  it('one refusal of the set and one of the restore: retried, the case judged, the device healthy', async () => {
    const { record, transcript, fired } = await sanityWith([
      { kind: 'refuse', on: { command: SNI_SET, occurrence: 1 } },
      { kind: 'refuse', on: { command: SNI_SET, occurrence: 3 } },
    ]);
    expect(fired.map((f) => f.kind)).toEqual(['refuse', 'refuse']);
    expect(transcript.match(/AT\+QSSLCFG="sni",1,\d refused \(ERROR\); retry 1\/2/g)).toHaveLength(2);
    expect(record.device.healthy).toBe(true);
    expect(record.outcome).toBe('accepted');
    expect(record.verdicts.rfc5280).toBe('conformant');
  }, 60_000);

  it('a restore refused on all three tries (occurrences 2–4: the set was the first): the device is unhealthy and the case has no verdict', async () => {
    const { record } = await sanityWith(
      [2, 3, 4].map((occurrence) => ({ kind: 'refuse', on: { command: SNI_SET, occurrence } }) as const),
    );
    expect(record.device.healthy).toBe(false);
    expect(record.device.error).toMatch(/restore failed: QSSLCFG "sni"/);
    expect(record.outcome).toBe('inconclusive');
    for (const v of Object.values(record.verdicts)) expect(v).toBe('inconclusive');
  }, 60_000);

  it("kept between cases, a restore refused on all three tries fails the run's restore, not the case", async () => {
    const { record, restoreFailures } = await sanityWith(
      [2, 3, 4].map((occurrence) => ({ kind: 'refuse', on: { command: SNI_SET, occurrence } }) as const),
      true,
    );
    expect(record.outcome).toBe('accepted');
    expect(restoreFailures).toEqual([expect.stringMatching(/^QSSLCFG "sni" ctx 1 back to 0: /)]);
  }, 60_000);
});

describe('URCs mid-case are on the record', () => {
  it('a PDP deactivation after the open shows in the case record, raw', async () => {
    const { record, fired } = await sanityWith([
      { kind: 'pdp-deactivate', on: { command: '^AT\\+QMTOPEN=' } },
    ]);
    expect(fired.map((f) => f.kind)).toEqual(['pdp-deactivate']);
    expect(record.urcs?.some((u) => /^\+QIURC: "pdpdeact",\d+$/.test(u))).toBe(true);
  }, 60_000);
});
