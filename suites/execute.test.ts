import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtEngine } from '../harness/at/engine.ts';
import { Transcript } from '../harness/at/transcript.ts';
import { QuectelDriver } from '../harness/drivers/quectel/driver.ts';
import { type OpenDevice, openDevice } from '../harness/runner/device.ts';
import { testDevice } from '../harness/runner/run-testing.ts';
import { createMemoryPair } from '../harness/transport/memory-pair.ts';
import { startVirtualModem } from '../harness/virtual-modem/start.ts';
import { executeCase } from './execute.ts';
import { defaultMatrix } from './matrix.ts';
import { virtualLabNetwork } from './plan-case.ts';

/** A virtual modem whose network resolves nothing but localhost: every hostname case fails at DNS. */
async function modemWithoutDns(): Promise<OpenDevice> {
  const [host, modemSide] = createMemoryPair();
  const modem = await startVirtualModem(
    { family: 'quectel', personality: 'strict', network: { hosts: { localhost: '127.0.0.1' } } },
    modemSide,
  );
  const transcript = new Transcript();
  const driver = new QuectelDriver(new AtEngine(host, { transcript }));
  const identity = await driver.identify();
  return testDevice({
    label: 'virtual:no-dns',
    driver,
    transcript,
    identity,
    tls: await driver.tlsCapabilities(),
    close: async () => modem.stop(),
  });
}

describe('a case that fails before TLS', () => {
  it('is not read as a refused anchor when its twin, run on the device right after, cannot connect either', async () => {
    const device = await modemWithoutDns();
    const defect = defaultMatrix().find((c) => c.id === 'anchors::wrong-ca');
    if (!defect) throw new Error('no anchors::wrong-ca in the default matrix');
    const outDir = mkdtempSync(join(tmpdir(), 'trustlab-never-dialled-'));
    try {
      const lab = { dialHost: '127.0.0.1', listenHost: '127.0.0.1' };
      const { record } = await executeCase(device, defect, outDir, lab, { attempts: 2, checkTwin: true });
      expect(record.outcome, record.reason).toBe('inconclusive');
      expect(record.reason).toMatch(/its twin anchors::right-ca, run right after, did not connect either$/);
      expect(record.device.anchorRefused).toBeUndefined();
    } finally {
      await device.close();
    }
  });

  it('is tried again up to the limit, then reported inconclusive with the reason and no verdict', async () => {
    const device = await modemWithoutDns();
    const sanity = defaultMatrix()[0];
    if (!sanity) throw new Error('empty matrix');
    const outDir = mkdtempSync(join(tmpdir(), 'trustlab-inconclusive-'));
    try {
      const { record } = await executeCase(
        device,
        sanity,
        outDir,
        { dialHost: '127.0.0.1', listenHost: '127.0.0.1' },
        {
          attempts: 2,
        },
      );
      expect(record.outcome).toBe('inconclusive');
      expect(record.attempts).toBe(2);
      expect(record.reason).toMatch(/before TLS|device fault/);
      expect(record.server.connections).toBe(0);
      expect(Object.values(record.verdicts)).toEqual(['inconclusive', 'inconclusive', 'inconclusive']);
      // The endpoint itself was fine: the reference clients still confirm the chain.
      expect(record.controlCheck?.ok).toBe(true);
    } finally {
      await device.close();
    }
  }, 60_000);
});

describe('a case whose controls run while the device does', () => {
  it('keeps the device as the only connection the server saw, and the controls their own verdicts', async () => {
    const lab = { dialHost: '127.0.0.1', listenHost: '127.0.0.1' };
    const device = await openDevice({ driver: 'quectel', network: virtualLabNetwork(lab) });
    const wrongCa = defaultMatrix().find((c) => c.id === 'anchors::wrong-ca');
    if (!wrongCa) throw new Error('anchors::wrong-ca not in the default matrix');
    const outDir = mkdtempSync(join(tmpdir(), 'trustlab-beside-'));
    try {
      const { record } = await executeCase(device, wrongCa, outDir, lab);
      expect(record.outcome, `${record.reason} / ${JSON.stringify(record.controlCheck)}`).toBe('rejected');
      expect(record.server.connections).toBe(1);
      expect(record.controlCheck?.ok).toBe(true);
      const against = new Set(record.controls?.map((r) => r.against));
      expect(against).toEqual(new Set(['case', 'twin']));
    } finally {
      await device.close();
    }
  }, 60_000);
});
