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
import { VirtualSimcomModem, type VirtualSimcomOptions } from '../../virtual-modem/simcom-a76xx/modem.ts';
import { selectEngine } from '../../virtual-modem/tls/engines.ts';
import { DEFAULT_INTENT } from '../tls-intent.ts';
import { DEFAULT_SIMCOM_OWNERSHIP, SimcomA76xxDriver } from './driver.ts';
import { SIMCOM_A76XX_TIMEOUTS } from './timeouts.ts';

const INTENT = { ...DEFAULT_INTENT, version: 'TLSv1.2', deviceClock: 'ignore' } as const;
const pair = (name: string, anchor: 'issuing-root' | 'unrelated-root'): CaseSpec => ({
  id: name,
  pki: fromHierarchySpec({ name, keyType: 'p256', anchor, dialledHost: '127.0.0.1' }),
  intent: INTENT,
});
const RIGHT_CA = pair('anchors::right-ca', 'issuing-root');
const WRONG_CA = pair('anchors::wrong-ca', 'unrelated-root');

/** A certificate the product put on the module; the harness must leave it byte-identical. */
const FOREIGN_NAME = 'product_root.pem';
const FOREIGN = Buffer.from('-----BEGIN CERTIFICATE-----\nnot ours\n-----END CERTIFICATE-----\n');
/** The owned context as the module ships it: all versions, no authentication, clock ignored, SNI off. */
const CONTEXT_AS_SHIPPED = '+CSSLCFG: 1,4,0,1,300,"","","",0';

interface Rig {
  readonly at: AtEngine;
  readonly modem: () => VirtualSimcomModem;
  readonly device: OpenDevice;
  readonly stop: () => Promise<void>;
}

const ENGINE = await selectEngine('auto');

const modemOn = (io: Duplex, extra: Partial<VirtualSimcomOptions>) =>
  new VirtualSimcomModem(io, {
    personality: PERSONALITIES.strict,
    network: LOOPBACK_NETWORK,
    engine: ENGINE,
    files: { [FOREIGN_NAME]: FOREIGN },
    ...extra,
  });

async function openRig(
  label: string,
  stream: Duplex,
  modem: () => VirtualSimcomModem,
  stop: () => Promise<void>,
): Promise<Rig> {
  const at = new AtEngine(stream, { transcript: new Transcript() });
  const driver = new SimcomA76xxDriver(at);
  const identity = await driver.identify();
  const tls = await driver.tlsCapabilities();
  return {
    at,
    modem,
    device: testDevice({ label, driver, transcript: at.transcript, identity, tls, close: stop }),
    stop,
  };
}

async function memoryRig(extra: Partial<VirtualSimcomOptions>): Promise<Rig> {
  const [host, modemSide] = createMemoryPair();
  const modem = modemOn(modemSide, extra);
  return openRig(
    'virtual over memory',
    host,
    () => modem,
    async () => void host.destroy(),
  );
}

/** The virtual module behind a loopback TCP port, as ser2net exports a real one, with serial and network latency. */
async function tcpRig(extra: Partial<VirtualSimcomOptions>): Promise<Rig> {
  let modem: VirtualSimcomModem | null = null;
  const server: Server = createServer((socket) => {
    modem = modemOn(socket, { latency: { baudRate: 115_200, commandMs: 5, networkRttMs: 30 }, ...extra });
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
  ['in-memory, A76xx answer order', memoryRig, {}],
  ['TCP with latency, SIM7600 answer order (+CMQTTSTART before OK)', tcpRig, { resultBeforeOk: true }],
] as const)('SIMCom A76xx driver, foundation pair on the virtual module over %s', (_name, open, extra) => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await open(extra);
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('identifies the module from its Key: value answers and learns its vocabulary from the test answers', () => {
    expect(rig.device.identity).toMatchObject({
      manufacturer: 'SIMCOM INCORPORATED',
      model: 'A7670E-LASE',
      firmware: 'A011B07A7670M7',
      imei: '862205050123456',
      reliable: true,
    });
    expect(rig.device.tls).toMatchObject({ sniSwitch: true, clockSwitch: true, cipherSuiteSelection: false });
    expect(rig.device.tls.asFound).toEqual([
      { name: 'SNI', raw: CONTEXT_AS_SHIPPED, meaning: 'SNI off (enableSNI 0)' },
    ]);
  });

  it('right CA: connects over TLS and has its publish acknowledged; the broker saw both', async () => {
    const run = await runCase(rig.device, RIGHT_CA);
    expect(bothEnds(run)).toBe('published');
    expect(run.device.codes.map((c) => c.raw)).toEqual([
      '+CMQTTCONNECT: 1,0',
      '+CMQTTPUB: 1,0',
      '+CMQTTDISC: 1,0',
    ]);
    expect(run.device.diagnostics.map((d) => `${d.step} ${d.raw}`)).toEqual([
      'start +CMQTTSTART: 0',
      'acquire OK',
      'release OK',
      'stop +CMQTTSTOP: 0',
    ]);
    expect(run.device.restoreFailures).toEqual([]);
    expect(run.device.settingsReadBack['CSSLCFG cacert']).toBe(
      '+CSSLCFG: 1,3,1,1,300,"trustlab_ca.pem","","",1',
    );
    expect(run.server.at(-1)?.mqttPublishes.map((p) => p.payload)).toEqual([run.mqtt.payload]);
  });

  it('wrong CA: the connect result is recorded raw and the broker saw no CONNECT', async () => {
    const run = await runCase(rig.device, WRONG_CA);
    expect(bothEnds(run)).toBe('refused in TLS');
    expect(run.device.codes.map((c) => c.raw)).toEqual(['+CMQTTCONNECT: 1,34']);
    expect(run.device.stages).toMatchObject({ tls: null, mqttConnack: null, publishAck: null });
    expect(run.device.healthy).toBe(true);
    expect(run.server.at(-1)?.mqttConnect ?? null).toBeNull();
  });

  it('leaves the product certificate byte-identical, removes its own, and puts the context back as found', async () => {
    const files = rig.modem().files();
    expect([...files.keys()]).toEqual([FOREIGN_NAME]);
    expect(files.get(FOREIGN_NAME)?.equals(FOREIGN)).toBe(true);
    expect((await rig.at.commandOk('AT+CSSLCFG=1')).lines).toEqual([CONTEXT_AS_SHIPPED]);
    // Context 0 is the product's: never written.
    expect((await rig.at.commandOk('AT+CSSLCFG=0')).lines).toEqual(['+CSSLCFG: 0,4,0,1,300,"","","",0']);
    // The service this harness started is stopped again.
    expect((await rig.at.command('AT+CMQTTSTOP')).final).toBe('ERROR');
  });
});

describe('SIMCom A76xx driver on a module whose MQTT service the product already runs', () => {
  it('uses it and leaves it running; another SNI default is read as found', async () => {
    const rig = await memoryRig({});
    try {
      await rig.at.commandOk('AT+CMQTTSTART');
      await rig.at.waitForUrc(/^\+CMQTTSTART: 0$/, { timeoutMs: 2_000 });
      await rig.at.commandOk('AT+CSSLCFG="enableSNI",1,1');
      const driver = new SimcomA76xxDriver(rig.at);
      const tls = await driver.tlsCapabilities();
      expect(tls.asFound?.[0]?.meaning).toBe('SNI on (enableSNI 1)');
      const run = await runCase({ ...rig.device, driver, tls }, RIGHT_CA);
      expect(bothEnds(run)).toBe('published');
      expect(run.device.diagnostics[0]?.raw).toBe('ERROR (service already running: left running)');
      expect(run.device.diagnostics.map((d) => d.step)).not.toContain('stop');
      // Still running: a second start is refused, and the product's SNI setting is back.
      expect((await rig.at.command('AT+CMQTTSTART')).final).toBe('ERROR');
      expect((await rig.at.commandOk('AT+CSSLCFG=1')).lines).toEqual(['+CSSLCFG: 1,4,0,1,300,"","","",1']);
    } finally {
      await rig.stop();
    }
  });

  it('a lost +CMQTTDISC is answered by the client state read back, not by a device declared dead', async () => {
    const rig = await memoryRig({ faults: [{ kind: 'lose-urc', urc: '^\\+CMQTTDISC: 1,0$' }] });
    try {
      const driver = new SimcomA76xxDriver(rig.at, DEFAULT_SIMCOM_OWNERSHIP, {
        ...SIMCOM_A76XX_TIMEOUTS,
        disconnect: 300,
      });
      const run = await runCase({ ...rig.device, driver, tls: await driver.tlsCapabilities() }, RIGHT_CA);
      expect(bothEnds(run)).toBe('published');
      expect(run.device.healthy).toBe(true);
      expect(run.device.codes.at(-1)?.raw).toBe('no +CMQTTDISC within 300 ms; AT+CMQTTDISC? +CMQTTDISC: 1,1');
      expect(run.device.restoreFailures).toEqual([]);
    } finally {
      await rig.stop();
    }
  });

  it('refuses an owned MQTT client index the dialect does not have, before sending anything', () => {
    const [host] = createMemoryPair();
    expect(
      () =>
        new SimcomA76xxDriver(new AtEngine(host, { transcript: new Transcript() }), {
          filePrefix: 'trustlab_',
          sslContext: 1,
          mqttClient: 5,
        }),
    ).toThrow(/mqttClient must be a whole number from 0 to 1/);
    host.destroy();
  });
});
