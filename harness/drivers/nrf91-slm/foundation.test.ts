import { createServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHierarchySpec } from '../../../certs/factory.ts';
import type { LabNetwork } from '../../../contracts/case.ts';
import { AtEngine } from '../../at/engine.ts';
import { Transcript } from '../../at/transcript.ts';
import type { OpenDevice } from '../../runner/device.ts';
import { type CaseSpec, runCase } from '../../runner/run-case.ts';
import { bothEnds, testDevice } from '../../runner/run-testing.ts';
import { createMemoryPair } from '../../transport/memory-pair.ts';
import { openTransport } from '../../transport/open.ts';
import type { VirtualNetwork } from '../../virtual-modem/network.ts';
import { type RunningVirtualModem, startVirtualModem } from '../../virtual-modem/start.ts';
import { DEFAULT_INTENT } from '../tls-intent.ts';
import { DEFAULT_NRF91_OWNERSHIP, Nrf91SlmDriver } from './driver.ts';

const SERVER_AUTH_TLS12 = { ...DEFAULT_INTENT, version: 'TLSv1.2' } as const;
const RIGHT_CA: CaseSpec = {
  id: 'anchors::right-ca',
  pki: fromHierarchySpec({
    name: 'anchors::right-ca',
    keyType: 'p256',
    anchor: 'issuing-root',
    dialledHost: 'broker.trustlab.test',
  }),
  intent: SERVER_AUTH_TLS12,
};
const WRONG_CA: CaseSpec = {
  id: 'anchors::wrong-ca',
  pki: fromHierarchySpec({
    name: 'anchors::wrong-ca',
    keyType: 'p256',
    anchor: 'unrelated-root',
    dialledHost: 'broker.trustlab.test',
  }),
  intent: SERVER_AUTH_TLS12,
};

/**
 * SLM MQTT checks the hostname against the broker URL, and the modem's stack (mbedTLS in the virtual
 * modem) matches names, not IP SANs: the device dials a name its network maps to loopback.
 */
const LAB: LabNetwork = { dialHost: 'broker.trustlab.test', listenHost: '127.0.0.1' };
const NETWORK: VirtualNetwork = { hosts: { 'broker.trustlab.test': '127.0.0.1' } };

/** nRF Cloud's sec_tag holding someone else's CA, and a tag just outside the owned range: both must survive. */
const FOREIGN = [
  {
    tag: 16842753,
    type: 0,
    content: '-----BEGIN CERTIFICATE-----\r\nbnJmY2xvdWQ=\r\n-----END CERTIFICATE-----',
  },
  {
    tag: DEFAULT_NRF91_OWNERSHIP.secTags.first + DEFAULT_NRF91_OWNERSHIP.secTags.count,
    type: 0,
    content: '-----BEGIN CERTIFICATE-----\r\nbmVpZ2hib3Vy\r\n-----END CERTIFICATE-----',
  },
];

interface Rig {
  readonly at: AtEngine;
  readonly modem: () => RunningVirtualModem;
  readonly device: OpenDevice;
  readonly stop: () => Promise<void>;
}

const startModem = (io: Duplex) =>
  startVirtualModem(
    { family: 'nrf91-slm', personality: 'mfw-1.2.3', network: NETWORK, credentials: FOREIGN },
    io,
  );

async function openRig(
  label: string,
  stream: Duplex,
  modem: () => RunningVirtualModem,
  stop: () => Promise<void>,
): Promise<Rig> {
  const transcript = new Transcript();
  const at = new AtEngine(stream, { transcript });
  const driver = new Nrf91SlmDriver(at);
  const identity = await driver.identify();
  const tls = await driver.tlsCapabilities();
  const device = testDevice({ label, driver, transcript, identity, tls, close: stop });
  return { at, modem, device, stop };
}

async function memoryRig(): Promise<Rig> {
  const [host, modemSide] = createMemoryPair();
  const modem = await startModem(modemSide);
  return openRig(
    'virtual nRF91 over memory',
    host,
    () => modem,
    async () => modem.stop(),
  );
}

async function tcpRig(): Promise<Rig> {
  let attached: (modem: Promise<RunningVirtualModem>) => void = () => {};
  const modem = new Promise<Promise<RunningVirtualModem>>((resolve) => {
    attached = resolve;
  });
  const server: Server = createServer((socket) => attached(startModem(socket)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  const stream = await openTransport({ kind: 'tcp', host: '127.0.0.1', port: address.port });
  // The modem starts when the server sees the connection: wait for that, not for a guessed time.
  const running = await await modem;
  return openRig(
    `tcp://127.0.0.1:${address.port}`,
    stream,
    () => running,
    async () => {
      stream.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  );
}

describe.each([
  ['in-memory', memoryRig],
  ['TCP (ser2net style)', tcpRig],
])('nRF91 SLM driver, foundation pair on the virtual nRF91 over %s', (_name, open) => {
  let rig: Rig;
  let before: ReadonlyMap<string, Buffer>;
  let modes: string[];
  const readModes = async () => [
    ...(await rig.at.commandOk('AT+CFUN?')).lines,
    ...(await rig.at.commandOk('AT+CMEE?')).lines,
  ];
  beforeAll(async () => {
    rig = await open();
    before = new Map(rig.modem().files());
    modes = await readModes();
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('right CA: connects with the sec_tag, publishes, the broker saw the CONNECT and the PUBLISH', async () => {
    const run = await runCase(rig.device, RIGHT_CA, LAB);
    expect(bothEnds(run)).toBe('published');
    expect(run.device.codes.map((c) => c.raw)).toEqual([
      '#XMQTTEVT: 0,0',
      '#XMQTTEVT: 3,0',
      '#XMQTTEVT: 1,0',
    ]);
    expect(run.device.healthy).toBe(true);
    expect(run.device.restoreFailures).toEqual([]);
    expect(run.server.at(-1)?.mqttPublishes.map((p) => p.payload)).toEqual([run.mqtt.payload]);
  });

  it('wrong CA: the handshake fails, the raw event code is recorded, no CONNECT reached the broker', async () => {
    const run = await runCase(rig.device, WRONG_CA, LAB);
    expect(bothEnds(run)).toBe('refused in TLS');
    expect(run.device.codes.map((c) => c.raw)).toEqual([
      expect.stringMatching(/^(#XMQTTEVT: 0,-\d+|ERROR)$/),
    ]);
    expect(run.device.stages.tls).toBeNull();
    expect(run.device.healthy).toBe(true);
    expect(run.server.at(-1)?.mqttConnect ?? null).toBeNull();
  });

  it('leaves the foreign sec_tags byte-identical, removes its own, and puts CFUN and CMEE back', async () => {
    expect(rig.modem().files()).toEqual(before);
    expect(await readModes()).toEqual(modes);
    expect(modes).toEqual(['+CFUN: 0', '+CMEE: 0']);
    const at = (rig.device.driver as Nrf91SlmDriver).credentials;
    expect((await at.list()).map((c) => c.secTag)).toEqual(FOREIGN.map((f) => f.tag));
  });
});
