import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabNetwork, LOOPBACK_LAB } from '../contracts/case.ts';
import { stepMqtt } from '../harness/drivers/rotation-step.ts';
import { type OpenDevice, openDevice } from '../harness/runner/device.ts';
import { startHostileModule } from '../harness/virtual-modem/hostile-module.ts';
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
    expect(splitCasePatterns(undefined)).toEqual({
      matrix: undefined,
      rotation: undefined,
      sessions: undefined,
    });
    expect(splitCasePatterns(['rotation::*'])).toEqual({
      matrix: [SANITY],
      rotation: ['rotation::*'],
      sessions: [],
    });
    expect(splitCasePatterns(['sessions::*'])).toEqual({
      matrix: [SANITY],
      rotation: [],
      sessions: ['sessions::*'],
    });
    expect(splitCasePatterns(['names::*'])).toEqual({ matrix: ['names::*'], rotation: [], sessions: [] });
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

describe('rotation on a Quectel-dialect module over tcp:// whose connections close late', () => {
  const LAB: LabNetwork = { dialHost: '127.0.0.1', listenHost: '127.0.0.1', dialName: 'rot.trustlab.test' };
  it("ties every step's server observation to that step's own connection, and answers the rotation questions", async () => {
    process.env.TRUSTLAB_RESET_BUDGET = join(mkdtempSync(join(tmpdir(), 'trustlab-rot-budget-')), 'b.json');
    // Every other connection stays open 1.5 s after the module reported it closed: the next step
    // starts while the last one is still up, and connections end out of order.
    const module = await startHostileModule({
      family: 'quectel',
      mode: {},
      seed: 0,
      network: virtualLabNetwork(LAB),
      latency: { closeLagMs: [1_500, 0] },
    });
    const outDir = mkdtempSync(join(tmpdir(), 'trustlab-rotation-tcp-'));
    try {
      const device = await openDevice({ device: module.address, driver: 'quectel' });
      const records: RotationRecord[] = [];
      try {
        for (const s of ROTATION_SCENARIOS) records.push(await executeRotationCase(device, s, outDir, LAB));
      } finally {
        await device.close();
      }
      for (const r of records) {
        expect(r.outcome, r.reason).toBe('accepted');
        expect(r.controlCheck?.ok, r.reason).toBe(true);
        for (const step of r.rotation.steps) {
          const what = `${r.case} ${step.name}: ${step.codes.join(' | ')}`;
          // What the server saw on this step's connection agrees with what the device said of it.
          expect(step.serverSaw, what).not.toBeNull();
          expect(step.serverSaw?.published, what).toBe(step.reached.publishAcked);
          expect(step.serverSaw?.handshake === 'completed', what).toBe(step.reached.tlsOpened);
          expect(step.serverSaw?.clientId ?? null, what).toBe(
            step.reached.mqttConnected
              ? stepMqtt({ clientId: 'trustlab-rot', topic: '', payload: '' }, step.name).clientId
              : null,
          );
        }
      }
      expect(records[0]?.rotation.steps.map((s) => [s.name, s.outcome])).toEqual([
        ['old-ca/old-server', 'accepted'],
        ['old-ca/new-server', 'rejected'],
        ['new-ca/new-server', 'accepted'],
        ['new-ca/old-server', 'rejected'],
      ]);
      const model = byQuestion(records);
      expect(model.get('A rebound CA takes effect without a reboot?')?.answer).toBe('yes');
      expect(model.get('Uploaded CA files survive a reboot?')?.answer).toBe('yes');
      expect(model.get('SSL context settings survive a reboot (AT+CFUN=1,1)?')?.answer).toBe('no');
    } finally {
      await module.stop();
    }
  }, 180_000);
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
