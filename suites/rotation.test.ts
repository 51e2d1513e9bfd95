import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOOPBACK_LAB } from '../contracts/case.ts';
import { type OpenDevice, openDevice } from '../harness/runner/device.ts';
import { latestPerCase, RESULTS_FILE, readRecords } from '../reports/results-log.ts';
import { virtualLabNetwork } from './plan-case.ts';
import {
  executeRotationCase,
  ROTATION_SCENARIOS,
  type RotationRecord,
  selectRotation,
  splitCasePatterns,
} from './rotation.ts';
import { SANITY } from './scenarios.ts';
import { inferTrustModel } from './trust-model.ts';

describe('rotation case selection', () => {
  it('keeps rotation patterns apart from the catalogue matrix; only-rotation runs just the sanity case', () => {
    expect(splitCasePatterns(undefined)).toEqual({ matrix: undefined, rotation: undefined });
    expect(splitCasePatterns(['rotation::*'])).toEqual({ matrix: [SANITY], rotation: ['rotation::*'] });
    expect(splitCasePatterns(['names::*'])).toEqual({ matrix: ['names::*'], rotation: [] });
    expect(selectRotation(undefined).map((s) => s.id)).toEqual(ROTATION_SCENARIOS.map((s) => s.id));
    expect(selectRotation([]).length).toBe(0);
    expect(selectRotation(['rotation::settings-*']).map((s) => s.id)).toEqual([
      'rotation::settings-after-reboot',
    ]);
    expect(() => selectRotation(['rotation::nope'])).toThrow(/names no rotation case/);
  });

  it('costs at most one reboot per run (the bar for the default matrix)', () => {
    expect(ROTATION_SCENARIOS.reduce((n, s) => n + s.reboots, 0)).toBeLessThanOrEqual(1);
  });
});

const byQuestion = (records: RotationRecord[]) =>
  new Map(inferTrustModel(records).map((a) => [a.question, a]));

describe.each(['strict', 'mbedtls-2.28'] as const)('rotation on the virtual EC200U (%s)', (personality) => {
  let device: OpenDevice;
  const outDir = mkdtempSync(join(tmpdir(), 'trustlab-rotation-'));
  beforeAll(async () => {
    device = await openDevice({ driver: 'quectel', personality, network: virtualLabNetwork(LOOPBACK_LAB) });
  }, 60_000);
  afterAll(async () => device?.close());

  it('records both scenarios through results.jsonl and answers the rotation questions from them', async () => {
    const records: RotationRecord[] = [];
    for (const s of ROTATION_SCENARIOS)
      records.push(await executeRotationCase(device, s, outDir, LOOPBACK_LAB));
    const [rebind, reboot] = records as [RotationRecord, RotationRecord];
    expect(rebind.outcome, rebind.reason).toBe('accepted');
    expect(rebind.controlCheck?.ok, rebind.reason).toBe(true);
    expect(rebind.rotation.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['old-ca/old-server', 'accepted'],
      ['old-ca/new-server', 'rejected'],
      ['new-ca/new-server', 'accepted'],
      ['new-ca/old-server', 'rejected'],
    ]);
    expect(rebind.rotation.oldDeleted?.raw).toBe('OK');
    expect(rebind.server.publishes).toContainEqual({
      topic: rebind.mqtt?.topic,
      payload: rebind.mqtt?.payload,
    });
    expect(rebind.codes).toContain('OK');

    expect(reboot.outcome, reboot.reason).toBe('accepted');
    expect(reboot.rotation.reboot?.lost).toContain('QSSLCFG cacert');
    expect(reboot.server.publishes).toContainEqual({
      topic: reboot.mqtt?.topic,
      payload: reboot.mqtt?.payload,
    });

    const recorded = latestPerCase(readRecords(join(outDir, RESULTS_FILE)));
    expect(recorded.map((r) => r.case)).toEqual(ROTATION_SCENARIOS.map((s) => s.id));
    const model = byQuestion(recorded as RotationRecord[]);
    expect(model.get('A rebound CA takes effect without a reboot?')?.answer).toBe('yes');
    expect(model.get('SSL context settings survive a reboot (AT+CFUN=1,1)?')?.answer).toBe('no');
    expect(model.get('Uploaded CA files survive a reboot?')?.answer).toBe('yes');
    // Left as found: no owned file on the module.
    expect([...(device.virtualModem?.files().keys() ?? [])].filter((n) => n.startsWith('trustlab_'))).toEqual(
      [],
    );
  }, 120_000);
});

describe('rotation on the virtual nRF9160 + SLM', () => {
  let device: OpenDevice;
  const outDir = mkdtempSync(join(tmpdir(), 'trustlab-rotation-nrf-'));
  beforeAll(async () => {
    device = await openDevice({ driver: 'nrf91-slm', network: virtualLabNetwork(LOOPBACK_LAB) });
  }, 60_000);
  afterAll(async () => device?.close());

  it('rebinds by sec_tag, keeps the credential across AT#XRESET, and answers in its own terms', async () => {
    const records: RotationRecord[] = [];
    for (const s of ROTATION_SCENARIOS)
      records.push(await executeRotationCase(device, s, outDir, LOOPBACK_LAB));
    const [rebind, reboot] = records as [RotationRecord, RotationRecord];
    expect(rebind.outcome, rebind.reason).toBe('accepted');
    expect(rebind.rotation.stores.new).toMatch(/^sec_tag:\d+$/);
    expect(reboot.outcome, reboot.reason).toBe('accepted');
    const model = byQuestion(records);
    expect(model.get('A rebound CA takes effect without a reboot?')?.answer).toBe('yes');
    // The CA entry of the sec_tag is listed after the restart and the reconnection used it.
    expect(model.get('Uploaded CA files survive a reboot?')?.answer).toBe('yes');
    // No SSL context exists on this dialect, so nothing answers that question.
    expect(model.get('SSL context settings survive a reboot (AT+CFUN=1,1)?')?.answer).toBe('not-applicable');
  }, 120_000);
});

describe('rotation questions answer from observations only', () => {
  const base = {
    case: 'rotation::rebind-without-reboot',
    verdicts: { rfc5280: 'conformant' },
  } as unknown as RotationRecord;
  const steps = (outcomes: Record<string, string>) =>
    Object.entries(outcomes).map(([name, outcome]) => ({ name, outcome }));
  it('a device that keeps using the old CA after the rebind answers no', () => {
    const rec = {
      ...base,
      rotation: {
        kind: 'rebind',
        steps: steps({
          'old-ca/old-server': 'accepted',
          'old-ca/new-server': 'rejected',
          'new-ca/new-server': 'rejected',
          'new-ca/old-server': 'accepted',
        }),
      },
    } as unknown as RotationRecord;
    expect(byQuestion([rec]).get('A rebound CA takes effect without a reboot?')?.answer).toBe('no');
  });
  it('a device that kept every SSL key across the reboot answers yes; no record answers unknown', () => {
    const rec = {
      ...base,
      case: 'rotation::settings-after-reboot',
      rotation: {
        kind: 'reboot',
        stores: { new: 'UFS:trustlab_rot_new_ca.pem' },
        steps: steps({ 'before-reboot': 'accepted', 'after-reboot': 'accepted' }),
        reboot: { announced: 'RDY', kept: ['QSSLCFG cacert'], lost: [], filesAfter: [], filesBefore: [] },
      },
    } as unknown as RotationRecord;
    const model = byQuestion([rec]);
    expect(model.get('SSL context settings survive a reboot (AT+CFUN=1,1)?')?.answer).toBe('yes');
    expect(model.get('Uploaded CA files survive a reboot?')?.answer).toBe('no');
    expect(byQuestion([]).get('A rebound CA takes effect without a reboot?')?.answer).toBe('unknown');
  });
});
