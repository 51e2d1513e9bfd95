import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type DeviceRequest, openDevice } from '../harness/runner/device.ts';
import { startHostileModule } from '../harness/virtual-modem/hostile-module.ts';
import type { TlsEngineId } from '../harness/virtual-modem/tls/engine.ts';
import { TLS_ENGINES } from '../harness/virtual-modem/tls/engines.ts';
import type { CaseRecord } from '../reports/record.ts';
import { virtualLabNetwork } from './plan-case.ts';
import {
  executeSessionCase,
  SESSION_SCENARIOS,
  type SessionRecord,
  type SessionScenario,
} from './sessions.ts';
import { inferTrustModel } from './trust-model.ts';

const lab = { dialHost: '127.0.0.1', listenHost: '127.0.0.1' };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Both sessions cases on one virtual device; their records and the three session answers. */
async function runSessions(driver: string, virtualModem: DeviceRequest['virtualModem'] = {}) {
  const outDir = mkdtempSync(join(tmpdir(), 'trustlab-sessions-'));
  dirs.push(outDir);
  const device = await openDevice({ driver, network: virtualLabNetwork(lab), virtualModem });
  const records: SessionRecord[] = [];
  try {
    for (const s of SESSION_SCENARIOS) records.push(await executeSessionCase(device, s, outDir, lab));
  } finally {
    await device.close();
  }
  const onDisk = readFileSync(join(outDir, 'results.jsonl'), 'utf8').trim().split('\n');
  expect(onDisk).toHaveLength(2);
  const answers = Object.fromEntries(
    inferTrustModel(records as CaseRecord[])
      .filter((a) => a.id.startsWith('tls.session.'))
      .map((a) => [a.id, a]),
  );
  const [same, changed] = records as [SessionRecord, SessionRecord];
  return { same, changed, answers };
}

const available = async (id: TlsEngineId) => TLS_ENGINES[id].available();

describe('TLS session resumption, two connections per case', () => {
  for (const driver of ['quectel', 'nrf91-slm', 'simcom-a76xx']) {
    it(`finds a ${driver} that keeps its session resuming after the chain changed, with both connections' evidence`, async () => {
      const { same, changed, answers } = await runSessions(driver);
      expect(same.controlCheck?.ok, same.reason).toBe(true);
      expect(same.outcome).toBe('accepted');
      expect(same.session.connections[1].resumed).toBe(true);
      // The finding: the second server's chain is refused afresh by the reference clients, yet the device published.
      expect(changed.controlCheck).toMatchObject({ ok: true });
      expect(changed.outcome, changed.reason).toBe('accepted');
      expect(changed.verdicts.rfc5280).toBe('lenient');
      const [first, second] = changed.session.connections;
      expect(first).toMatchObject({ outcome: 'accepted', resumed: false });
      expect(second).toMatchObject({ outcome: 'accepted', resumed: true });
      expect(first.servedChainBytes ?? 0).toBeGreaterThan(0);
      expect(second.servedChainBytes).toBeNull(); // no Certificate message on the wire
      expect(answers['tls.session.resumed']?.answer).toBe('yes');
      expect(answers['tls.session.resumed-after-chain-change']).toMatchObject({
        answer: 'yes',
        cases: ['sessions::resume-after-chain-change'],
      });
      expect(answers['tls.session.resumed-after-chain-change']?.detail).toMatch(
        /after the chain changed: offered .*resumed/,
      );
    }, 60_000);
  }

  it('finds a modem that keeps no session verifying the new chain afresh and refusing it', async () => {
    const { same, changed, answers } = await runSessions('quectel', { sessionCache: false });
    expect(same.outcome).toBe('accepted');
    expect(same.session.connections[1]).toMatchObject({ resumed: false });
    expect(changed.outcome, changed.reason).toBe('rejected');
    expect(changed.verdicts.rfc5280).toBe('conformant');
    expect(changed.session.connections[1]).toMatchObject({ resumed: false, clientAlert: '48 unknown_ca' });
    expect(answers['tls.session.resumed']?.answer).toBe('no');
    expect(answers['tls.session.resumed-after-chain-change']?.answer).toBe('no');
  }, 60_000);

  it('tells a TLS 1.3 resumption by its PSK (Node engine), and a stack that keeps no session (GnuTLS) from one that does', async (ctx) => {
    const node = await runSessions('quectel', { engine: 'node' });
    expect(node.same.session.connections[1]).toMatchObject({ version: 'TLSv1.3', resumed: true });
    expect(node.same.session.connections[1].offered?.psk).toBe(true);
    expect(node.answers['tls.session.resumed-after-chain-change']?.answer).toBe('yes');
    const gnutls = await available('gnutls');
    if (!gnutls.ok) ctx.skip(`gnutls unavailable: ${gnutls.reason}`);
    const g = await runSessions('quectel', { engine: 'gnutls' });
    expect(g.changed.outcome, g.changed.reason).toBe('rejected');
    expect(g.answers['tls.session.resumed']?.answer).toBe('no');
  }, 90_000);

  it('ties each connection to its own observation on an nRF91 behind tcp:// whose first connection closes late', async () => {
    const module = await startHostileModule({
      family: 'nrf91-slm',
      mode: {},
      seed: 0,
      network: virtualLabNetwork(lab),
      latency: { closeLagMs: [1_500, 0], networkRttMs: 40 },
    });
    const outDir = mkdtempSync(join(tmpdir(), 'trustlab-sessions-tcp-'));
    dirs.push(outDir);
    try {
      const device = await openDevice({ device: module.address, driver: 'nrf91-slm' });
      const records: SessionRecord[] = [];
      try {
        for (const s of SESSION_SCENARIOS) records.push(await executeSessionCase(device, s, outDir, lab));
      } finally {
        await device.close();
      }
      const [same, changed] = records as [SessionRecord, SessionRecord];
      // Each connection carried its own client id: the first is a full handshake, the second resumed.
      expect(same.server.mqttConnect?.clientId).toBe(same.mqtt?.clientId);
      expect(same.session.connections.map((c) => c.resumed)).toEqual([false, true]);
      expect(changed.session.connections.map((c) => [c.outcome, c.resumed])).toEqual([
        ['accepted', false],
        ['accepted', true],
      ]);
      expect(changed.controlCheck?.ok, changed.reason).toBe(true);
    } finally {
      await module.stop();
    }
  }, 90_000);

  it('asks nothing more of a device the first connection left faulty: inconclusive, the second never sent', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'trustlab-sessions-fault-'));
    dirs.push(outDir);
    const device = await openDevice({
      driver: 'quectel',
      network: virtualLabNetwork(lab),
      virtualModem: { faults: [{ kind: 'reboot', on: { command: '^AT\\+QMTOPEN=', occurrence: 1 } }] },
    });
    try {
      const mark = device.transcript.mark();
      const r = await executeSessionCase(device, SESSION_SCENARIOS[0] as SessionScenario, outDir, lab);
      expect(r.outcome, r.reason).toBe('inconclusive');
      expect(r.device.healthy).toBe(false);
      expect(r.session.connections[1]).toMatchObject({ outcome: 'inconclusive', offered: null });
      expect(r.reason).toMatch(/not run: the device was faulty after the first connection/);
      const opens = device.transcript
        .since(mark)
        .filter((e) => e.dir === 'tx' && e.data.startsWith('AT+QMTOPEN='));
      expect(opens).toHaveLength(1);
    } finally {
      await device.close();
    }
  }, 60_000);
});
