import { createServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHierarchySpec } from '../../../certs/factory.ts';
import { AtEngine } from '../../at/engine.ts';
import { Transcript } from '../../at/transcript.ts';
import type { OpenDevice } from '../../runner/device.ts';
import { type CaseSpec, runCase } from '../../runner/run-case.ts';
import { bothEnds, testDevice } from '../../runner/run-testing.ts';
import { createMemoryPair } from '../../transport/memory-pair.ts';
import { openTransport } from '../../transport/open.ts';
import { LOOPBACK_NETWORK } from '../../virtual-modem/network.ts';
import { PERSONALITIES } from '../../virtual-modem/personality.ts';
import { VirtualQuectelModem } from '../../virtual-modem/quectel/modem.ts';
import { DEFAULT_INTENT } from '../tls-intent.ts';
import { QuectelDriver } from './driver.ts';

const SERVER_AUTH_TLS12 = { ...DEFAULT_INTENT, version: 'TLSv1.2', deviceClock: 'ignore' } as const;
const RIGHT_CA: CaseSpec = {
  id: 'anchors::right-ca',
  pki: fromHierarchySpec({
    name: 'anchors::right-ca',
    keyType: 'p256',
    anchor: 'issuing-root',
    dialledHost: '127.0.0.1',
  }),
  intent: SERVER_AUTH_TLS12,
};
const WRONG_CA: CaseSpec = {
  id: 'anchors::wrong-ca',
  pki: fromHierarchySpec({
    name: 'anchors::wrong-ca',
    keyType: 'p256',
    anchor: 'unrelated-root',
    dialledHost: '127.0.0.1',
  }),
  intent: SERVER_AUTH_TLS12,
};

/** A file someone else put on the module; the harness must leave it byte-identical. */
const FOREIGN_NAME = 'customer_root.pem';
const FOREIGN = Buffer.from('-----BEGIN CERTIFICATE-----\r\nnot ours\r\n-----END CERTIFICATE-----\r\n');

interface Rig {
  readonly at: AtEngine;
  readonly modem: () => VirtualQuectelModem;
  readonly device: OpenDevice;
  readonly stop: () => Promise<void>;
}

function newModem(io: Duplex): VirtualQuectelModem {
  return new VirtualQuectelModem(io, {
    personality: PERSONALITIES.strict,
    network: LOOPBACK_NETWORK,
    files: { [FOREIGN_NAME]: FOREIGN },
  });
}

async function openRig(
  label: string,
  stream: Duplex,
  modem: () => VirtualQuectelModem,
  stop: () => Promise<void>,
): Promise<Rig> {
  const transcript = new Transcript();
  const at = new AtEngine(stream, { transcript });
  const driver = new QuectelDriver(at);
  const identity = await driver.identify();
  const tls = await driver.tlsCapabilities();
  const device = testDevice({ label, driver, transcript, identity, tls, close: stop });
  return { at, modem, device, stop };
}

async function memoryRig(): Promise<Rig> {
  const [host, modemSide] = createMemoryPair();
  const modem = newModem(modemSide);
  return openRig(
    'virtual over memory',
    host,
    () => modem,
    async () => {
      host.destroy();
    },
  );
}

/** The virtual modem behind a loopback TCP port, as ser2net would export a real one. */
async function tcpRig(): Promise<Rig> {
  let modem: VirtualQuectelModem | null = null;
  const server: Server = createServer((socket) => {
    modem = newModem(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  const stream = await openTransport({ kind: 'tcp', host: '127.0.0.1', port: address.port });
  return openRig(
    `tcp://127.0.0.1:${address.port}`,
    stream,
    () => {
      if (!modem) throw new Error('modem not connected');
      return modem;
    },
    async () => {
      stream.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  );
}

describe.each([
  ['in-memory', memoryRig],
  ['TCP (ser2net style)', tcpRig],
])('Quectel driver, foundation pair on the virtual modem over %s', (_name, open) => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await open();
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('identifies the module and captures its test-command answers', () => {
    expect(rig.device.identity).toMatchObject({
      manufacturer: 'Quectel',
      model: 'EC200U',
      imei: '866123456789012',
    });
    expect(Object.keys(rig.device.identity.capabilities ?? {})).toContain('AT+QSSLCFG=?');
  });

  it('right CA: opens, connects and has its publish acknowledged; the broker saw both', async () => {
    const run = await runCase(rig.device, RIGHT_CA);
    expect(bothEnds(run)).toBe('published');
    expect(run.device.healthy).toBe(true);
    expect(run.device.codes.map((c) => c.raw)).toEqual([
      '+QMTOPEN: 1,0',
      '+QMTCONN: 1,0,0',
      '+QMTPUBEX: 1,1,0',
      '+QMTDISC: 1,0',
    ]);
    expect(run.device.stages.tls).not.toBeNull();
    expect(run.device.stages.publishAck).not.toBeNull();
    expect(run.device.restoreFailures).toEqual([]);
    expect(run.device.settingsReadBack['QSSLCFG cacert']).toBe('+QSSLCFG: "cacert",1,"UFS:trustlab_ca.pem"');
    expect(run.server.at(-1)?.mqttPublishes.map((p) => p.payload)).toEqual([run.mqtt.payload]);
  });

  it('wrong CA: the open fails with the raw code, QIGETERROR is asked, the broker saw no CONNECT', async () => {
    const run = await runCase(rig.device, WRONG_CA);
    expect(bothEnds(run)).toBe('refused in TLS');
    expect(run.device.codes.map((c) => c.raw)).toEqual(['+QMTOPEN: 1,-1']);
    expect(run.device.stages).toMatchObject({ tls: null, mqttConnack: null, publishAck: null });
    expect(run.device.diagnostics[0]?.step).toBe('QIGETERROR after QMTOPEN');
    expect(run.device.healthy).toBe(true);
    expect(run.server.at(-1)?.mqttConnect ?? null).toBeNull();
  });

  it('leaves the foreign file byte-identical, removes its own, and puts the SSL context back', async () => {
    const files = rig.modem().files();
    expect(files.get(FOREIGN_NAME)?.equals(FOREIGN)).toBe(true);
    expect([...files.keys()]).toEqual([FOREIGN_NAME]);
    const at = (rig.device.driver as QuectelDriver).files;
    expect(await at.list()).toEqual([{ name: FOREIGN_NAME, size: FOREIGN.length }]);
    // The module's defaults, as before the first case.
    for (const [query, answer] of [
      ['AT+QSSLCFG="cacert",1', '+QSSLCFG: "cacert",1,""'],
      ['AT+QSSLCFG="seclevel",1', '+QSSLCFG: "seclevel",1,0'],
      ['AT+QSSLCFG="sslversion",1', '+QSSLCFG: "sslversion",1,4'],
      ['AT+QSSLCFG="sni",1', '+QSSLCFG: "sni",1,0'],
      ['AT+QMTCFG="ssl",1', '+QMTCFG: "ssl",1,0,0'],
    ] as const) {
      expect((await rig.at.commandOk(query)).lines).toEqual([answer]);
    }
  });
});
