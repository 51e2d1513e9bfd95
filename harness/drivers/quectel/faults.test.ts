import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedesTlsEndpoint } from '../../../brokers/aedes-tls.ts';
import { buildHierarchy } from '../../../certs/factory.ts';
import { AtEngine } from '../../at/engine.ts';
import { Transcript } from '../../at/transcript.ts';
import { createMemoryPair } from '../../transport/memory-pair.ts';
import type { Fault } from '../../virtual-modem/faults.ts';
import { LOOPBACK_NETWORK } from '../../virtual-modem/network.ts';
import { PERSONALITIES } from '../../virtual-modem/personality.ts';
import { VirtualQuectelModem } from '../../virtual-modem/quectel/modem.ts';
import type { DeviceOutcome, MqttCaseInput } from '../driver.ts';
import { DEFAULT_INTENT } from '../tls-intent.ts';
import { QuectelDriver } from './driver.ts';
import { QUECTEL_TIMEOUTS } from './timeouts.ts';

const FOREIGN_NAME = 'customer_root.pem';
const FOREIGN = Buffer.from('-----BEGIN CERTIFICATE-----\r\nnot ours\r\n-----END CERTIFICATE-----\r\n');
/** Short bounds so a lost answer costs a test a second, not the vendor's two minutes. */
const FAST = {
  ...QUECTEL_TIMEOUTS,
  basic: 1_000,
  uploadTimeoutS: 1,
  mqttOpen: 2_000,
  mqttPacket: 1_500,
  mqttClose: 1_500,
};

let anchorsPem: string;
let endpoint: Awaited<ReturnType<typeof startAedesTlsEndpoint>>;
beforeAll(async () => {
  const h = await buildHierarchy({
    keyType: 'p256',
    anchor: 'issuing-root',
    name: 'faults',
    dialledHost: '127.0.0.1',
  });
  anchorsPem = h.anchorsPem;
  endpoint = await startAedesTlsEndpoint({ chainPem: h.servedChainPem, keyPem: h.serverKeyPem });
});
afterAll(async () => {
  await endpoint?.stop();
});

async function runWith(
  faults: Fault[],
  timeouts: Partial<typeof FAST> = {},
): Promise<{ out: DeviceOutcome; modem: VirtualQuectelModem; at: AtEngine; ms: number }> {
  const [host, io] = createMemoryPair();
  const modem = new VirtualQuectelModem(io, {
    personality: PERSONALITIES.strict,
    network: LOOPBACK_NETWORK,
    files: { [FOREIGN_NAME]: FOREIGN },
    faults,
  });
  const at = new AtEngine(host, { transcript: new Transcript(), resyncTimeoutMs: 3_000 });
  const driver = new QuectelDriver(at, undefined, { ...FAST, ...timeouts });
  await at.waitForUrc(/^RDY$/, { timeoutMs: 1_000 });
  const input: MqttCaseInput = {
    caseId: 'fault',
    anchorsPem,
    host: '127.0.0.1',
    port: endpoint.listenPort,
    intent: { ...DEFAULT_INTENT, version: 'TLSv1.2', deviceClock: 'ignore' },
    clientId: 'fault-case',
    topic: 'trustlab/fault',
    payload: 'x',
  };
  const started = Date.now();
  const out = await driver.runMqttCase(input);
  return { out, modem, at, ms: Date.now() - started };
}

/** What must hold after any fault: the foreign file intact, none of ours left, the module answering. */
async function expectLeftAlone(modem: VirtualQuectelModem, at: AtEngine): Promise<void> {
  const files = modem.files();
  expect(files.get(FOREIGN_NAME)?.equals(FOREIGN)).toBe(true);
  expect([...files.keys()]).toEqual([FOREIGN_NAME]);
  await expect(at.commandOk('AT', { timeoutMs: 1_000 })).resolves.toMatchObject({ ok: true });
}

describe('Quectel driver under injected faults (virtual modem)', () => {
  it('line noise before an answer: the case still completes', async () => {
    const { out, modem, at } = await runWith([{ kind: 'garbage', on: { command: 'AT\\+QSSLCFG="sni",1$' } }]);
    expect(out.error).toBeNull();
    expect(out.reached.publishAcked).toBe(true);
    await expectLeftAlone(modem, at);
  });

  it('a lost +QMTOPEN URC: bounded, unhealthy, and the client index still closed by the restore', async () => {
    const { out, modem, at, ms } = await runWith([{ kind: 'lose-urc', urc: '\\+QMTOPEN:' }]);
    expect(out.error).toMatch(/waiting for URC .*QMTOPEN.*no answer within 2000 ms/);
    expect(out.healthy).toBe(false);
    expect(ms).toBeLessThan(10_000);
    expect(out.codes.some((c) => c.step === 'close')).toBe(true);
    await expectLeftAlone(modem, at);
  });

  it('an answer later than the bound: the late OK is not taken for the next command, and the setting is still put back', async () => {
    const { out, modem, at } = await runWith([
      { kind: 'slow-answer', on: { command: 'AT\\+QSSLCFG="sni",1,1' }, delayMs: 1_500 },
    ]);
    expect(out.error).toMatch(/AT\+QSSLCFG="sni",1,1: no answer within 1000 ms/);
    expect(out.restoreFailures).toEqual([]);
    expect((await at.commandOk('AT+QSSLCFG="sni",1')).lines).toEqual(['+QSSLCFG: "sni",1,0']);
    await expectLeftAlone(modem, at);
  });

  it('an upload whose bytes get lost: the checksum comparison catches it and the partial file is removed', async () => {
    const { out, modem, at } = await runWith([{ kind: 'truncate-upload', keepBytes: 100 }]);
    expect(out.error).toMatch(
      /^upload of UFS:trustlab_ca.pem corrupted: device reported \+QFUPL: 100,[0-9a-f]+, expected/,
    );
    expect(out.healthy).toBe(true);
    expect(out.reached.tlsOpened).toBe(false);
    await expectLeftAlone(modem, at);
  });

  it('a module restart mid-case (RDY instead of the answer): reported as a restart, unhealthy, device left alone', async () => {
    const { out, modem, at } = await runWith([{ kind: 'reboot', on: { command: '^AT\\+QMTCONN=' } }]);
    expect(out.error).toMatch(/^module restarted during the case \(RDY/);
    expect(out.healthy).toBe(false);
    expect(out.urcs.map((u) => u.line)).toContain('RDY');
    await expectLeftAlone(modem, at);
  });

  it('the network drops the PDP context during CONNECT: +QMTSTAT ends the wait at once, recorded raw', async () => {
    // A packet timeout far above the bound below: ending under it means the URC ended the wait.
    const { out, modem, at, ms } = await runWith(
      [{ kind: 'pdp-deactivate', on: { command: '^AT\\+QMTCONN=' } }],
      { mqttPacket: 20_000 },
    );
    expect(out.codes.find((c) => c.step === 'connect')?.raw).toMatch(/^\+QMTSTAT: 1,/);
    expect(out.urcs.map((u) => u.line)).toContain('+QIURC: "pdpdeact",1');
    expect(out.reached.mqttConnected).toBe(false);
    expect(ms).toBeLessThan(10_000);
    await expectLeftAlone(modem, at);
  });
});
