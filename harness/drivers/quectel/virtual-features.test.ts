import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedesTlsEndpoint } from '../../../brokers/aedes-tls.ts';
import { buildHierarchy } from '../../../certs/factory.ts';
import { AtEngine } from '../../at/engine.ts';
import { Transcript } from '../../at/transcript.ts';
import { createMemoryPair } from '../../transport/memory-pair.ts';
import { LOOPBACK_NETWORK } from '../../virtual-modem/network.ts';
import { PERSONALITIES } from '../../virtual-modem/personality.ts';
import { VirtualQuectelModem } from '../../virtual-modem/quectel/modem.ts';
import { parseCclk } from '../cclk.ts';
import { DEFAULT_INTENT, type TlsIntent } from '../tls-intent.ts';
import { QuectelDriver } from './driver.ts';
import { ResetBudget, ResetBudgetExceededError } from './reset-budget.ts';

const INTENT: TlsIntent = { ...DEFAULT_INTENT, version: 'TLSv1.2', deviceClock: 'ignore' };

function rig(budget?: ResetBudget, pdp?: { contextId: number }) {
  const [host, io] = createMemoryPair();
  const modem = new VirtualQuectelModem(io, { personality: PERSONALITIES.strict, network: LOOPBACK_NETWORK });
  const at = new AtEngine(host, { transcript: new Transcript() });
  const driver = new QuectelDriver(at, undefined, undefined, {
    ...(budget ? { resetBudget: budget } : {}),
    ...(pdp ? { pdp } : {}),
  });
  return { modem, at, driver, close: () => host.destroy() };
}

describe('Quectel driver on the virtual modem: raw TLS, clock, reset', () => {
  let right: string;
  let wrong: string;
  let endpoint: Awaited<ReturnType<typeof startAedesTlsEndpoint>>;
  beforeAll(async () => {
    const good = await buildHierarchy({
      keyType: 'p256',
      anchor: 'issuing-root',
      name: 'raw-right',
      dialledHost: '127.0.0.1',
    });
    const bad = await buildHierarchy({
      keyType: 'p256',
      anchor: 'unrelated-root',
      name: 'raw-wrong',
      dialledHost: '127.0.0.1',
    });
    right = good.anchorsPem;
    wrong = bad.anchorsPem;
    endpoint = await startAedesTlsEndpoint({ chainPem: good.servedChainPem, keyPem: good.serverKeyPem });
  });
  afterAll(async () => {
    await endpoint?.stop();
  });

  it('QSSLOPEN with the right CA: open, state, send an MQTT CONNECT, read the CONNACK, close', async () => {
    const { driver, close } = rig();
    const connect = mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: 'raw-tls',
      keepalive: 30,
    });
    const out = await driver.runTlsSocketCase({
      caseId: 'raw',
      anchorsPem: right,
      host: '127.0.0.1',
      port: endpoint.listenPort,
      intent: INTENT,
      payload: connect,
    });
    close();
    expect(out.error).toBeNull();
    const byStep = Object.fromEntries(out.codes.map((c) => [c.step, c.raw]));
    expect(byStep.open).toBe('+QSSLOPEN: 1,0');
    expect(byStep.state).toMatch(/^\+QSSLSTATE: 1,"SSLClient","127.0.0.1",\d+,\d+,2,/);
    expect(byStep.send).toBe('SEND OK');
    expect(out.codes.filter((c) => c.step === 'recv').map((c) => c.raw)).toEqual([
      '+QSSLURC: "recv",1',
      '+QSSLRECV: 4',
    ]);
    expect(out.stages.tls).not.toBeNull();
  });

  it('QSSLOPEN with the wrong CA: the raw open code and QIGETERROR are recorded, nothing else', async () => {
    const { driver, close } = rig();
    const out = await driver.runTlsSocketCase({
      caseId: 'raw',
      anchorsPem: wrong,
      host: '127.0.0.1',
      port: endpoint.listenPort,
      intent: INTENT,
    });
    close();
    expect(out.codes[0]?.raw).toMatch(/^\+QSSLOPEN: 1,(?!0$)-?\d+$/);
    expect(out.diagnostics[0]?.raw).toMatch(/^\+QIGETERROR: \d+/);
    expect(out.stages.tls).toBeNull();
    expect(out.healthy).toBe(true);
  });

  it('sets the clock for a validity case with ignorelocaltime 0, then puts both back', async () => {
    const { driver, at, close } = rig();
    const before = parseCclk((await at.commandOk('AT+CCLK?')).lines[0] ?? '');
    const out = await driver.runTlsSocketCase({
      caseId: 'clock',
      anchorsPem: right,
      host: '127.0.0.1',
      port: endpoint.listenPort,
      intent: { ...INTENT, deviceClock: 'validate' },
      clock: new Date('2031-06-01T00:00:00Z'),
    });
    expect(out.settingsReadBack['QSSLCFG ignorelocaltime']).toBe('+QSSLCFG: "ignorelocaltime",1,0');
    const after = parseCclk((await at.commandOk('AT+CCLK?')).lines[0] ?? '');
    expect(before).not.toBeNull();
    expect(Math.abs((after?.getTime() ?? 0) - (before?.getTime() ?? 0))).toBeLessThan(10_000);
    expect((await at.commandOk('AT+QSSLCFG="ignorelocaltime",1')).lines).toEqual([
      '+QSSLCFG: "ignorelocaltime",1,1',
    ]);
    close();
  });

  it("resets with AT+CFUN=1,1, waits for RDY, and refuses once the day's budget is spent", async () => {
    const budget = new ResetBudget({ limit: 1 });
    const { driver, at, close } = rig(budget);
    await driver.identify();
    await driver.reset();
    await expect(at.commandOk('AT')).resolves.toMatchObject({ ok: true });
    const sentBefore = at.transcript.since(0).filter((e) => e.dir === 'tx').length;
    await expect(driver.reset()).rejects.toBeInstanceOf(ResetBudgetExceededError);
    expect(at.transcript.since(0).filter((e) => e.dir === 'tx').length).toBe(sentBefore);
    close();
  });

  it('activates an inactive PDP context for the case and deactivates it again afterwards', async () => {
    const { driver, at, close } = rig(undefined, { contextId: 1 });
    await at.commandOk('AT+QIDEACT=1');
    expect((await at.commandOk('AT+QIACT?')).lines).toEqual([]);
    const out = await driver.runTlsSocketCase({
      caseId: 'pdp',
      anchorsPem: right,
      host: '127.0.0.1',
      port: endpoint.listenPort,
      intent: INTENT,
    });
    expect(out.error).toBeNull();
    expect(out.stages.tls).not.toBeNull();
    expect((await at.commandOk('AT+QIACT?')).lines).toEqual([]);
    const sent = at.transcript
      .since(0)
      .filter((e) => e.dir === 'tx')
      .map((e) => e.data.trim());
    expect(sent.indexOf('AT+QIACT=1')).toBeLessThan(sent.findIndex((c) => c.startsWith('AT+QSSLOPEN=')));
    expect(sent.lastIndexOf('AT+QIDEACT=1')).toBeGreaterThan(
      sent.findIndex((c) => c.startsWith('AT+QSSLOPEN=')),
    );
    close();
  });
});
