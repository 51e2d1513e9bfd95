import { describe, expect, it } from 'vitest';
import { fromHierarchySpec } from '../../certs/factory.ts';
import { DEFAULT_INTENT } from '../drivers/tls-intent.ts';
import { DRIVER_FAMILIES, openDevice } from './device.ts';
import { runCase } from './run-case.ts';
import { bothEnds } from './run-testing.ts';

const LAB = { dialHost: 'broker.trustlab.test', listenHost: '127.0.0.1' } as const;
const NETWORK = { hosts: { 'broker.trustlab.test': '127.0.0.1' } } as const;
const RIGHT_CA = {
  id: 'anchors::right-ca',
  pki: fromHierarchySpec({
    name: 'anchors::right-ca',
    keyType: 'p256',
    anchor: 'issuing-root',
    dialledHost: 'broker.trustlab.test',
  }),
  intent: { ...DEFAULT_INTENT, version: 'TLSv1.2' },
} as const;

/** The commands the host sent, one per line, without the data phases' payloads. */
const commandsSent = (entries: readonly { dir: string; data: string }[]) =>
  entries
    .filter((e) => e.dir === 'tx')
    .map((e) => e.data)
    .join('')
    .split('\r')
    .filter((l) => l.startsWith('AT'));

describe('openDevice picks the driver and the built-in modem of the family', () => {
  it('lists every registered family for the CLI, the default first', () => {
    expect(DRIVER_FAMILIES).toEqual(['quectel', 'nrf91-slm', 'simcom-a76xx']);
  });

  it('nrf91-slm without --device: the virtual nRF9160 + SLM, driven end to end by the SLM driver', async () => {
    const device = await openDevice({
      driver: 'nrf91-slm',
      network: { hosts: { 'broker.trustlab.test': '127.0.0.1' } },
    });
    try {
      expect(device.identity).toMatchObject({
        manufacturer: 'Nordic Semiconductor ASA',
        model: 'nRF9160-SICA',
      });
      expect(device.driver.family).toBe('nrf91-slm');
      const run = await runCase(device, RIGHT_CA, LAB);
      expect(bothEnds(run)).toBe('published');
    } finally {
      await device.close();
    }
  });

  it('a Quectel device uses the ownership it is given: its file prefix, SSL context and MQTT client only', async () => {
    const device = await openDevice({
      driver: 'quectel',
      network: NETWORK,
      owned: { filePrefix: 'lab7_', sslContext: 3, mqttClient: 4 },
      // A file under the default prefix belongs to someone else on this device.
      virtualModem: { files: { 'trustlab_product.pem': 'not ours' } },
    });
    try {
      const mark = device.transcript.mark();
      const run = await runCase(device, RIGHT_CA, LAB);
      expect(bothEnds(run)).toBe('published');
      const sent = commandsSent(device.transcript.since(mark));
      const contexts = sent.flatMap((l) => /^AT\+QSSLCFG="[a-z]+",(\d)/.exec(l)?.[1] ?? []);
      const clients = sent.flatMap((l) => /^AT\+QMT[A-Z]+=(?:"[a-z]+",)?(\d)/.exec(l)?.[1] ?? []);
      const files = sent.flatMap((l) => /"UFS:([^"]+)"/.exec(l)?.[1] ?? []);
      expect(new Set(contexts)).toEqual(new Set(['3']));
      expect(new Set(clients)).toEqual(new Set(['4']));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect(f).toMatch(/^lab7_/);
      expect(sent).toContain('AT+QMTCFG="ssl",4,1,3');
      // Kept between cases (delta configuration), removed by the end-of-run restore.
      expect([...(device.virtualModem?.files().keys() ?? [])]).toEqual([
        'trustlab_product.pem',
        'lab7_ca.pem',
      ]);
      expect(await device.restore()).toEqual([]);
      expect([...(device.virtualModem?.files().keys() ?? [])]).toEqual(['trustlab_product.pem']);
    } finally {
      await device.close();
    }
  });

  it('an nRF91 device writes and deletes credentials only in the sec_tag range it is given', async () => {
    const device = await openDevice({
      driver: 'nrf91-slm',
      network: NETWORK,
      owned: { secTags: { first: 4242, count: 2 } },
    });
    try {
      const mark = device.transcript.mark();
      const run = await runCase(device, RIGHT_CA, LAB);
      expect(bothEnds(run)).toBe('published');
      const sent = commandsSent(device.transcript.since(mark));
      const tags = sent.flatMap((l) => /^AT%CMNG=[0-9],(\d+)/.exec(l)?.[1] ?? []);
      expect(tags.length).toBeGreaterThan(0);
      for (const t of tags) expect(['4242', '4243']).toContain(t);
      expect(sent).toContainEqual(expect.stringMatching(/^AT#XMQTTCON=1,.*,4242$/));
    } finally {
      await device.close();
    }
  });

  it('an unreachable tcp:// device fails at once with its address', async () => {
    await expect(openDevice({ driver: 'quectel', device: 'tcp://127.0.0.1:1' })).rejects.toThrow(
      /tcp:\/\/127.0.0.1:1/,
    );
  });
});
