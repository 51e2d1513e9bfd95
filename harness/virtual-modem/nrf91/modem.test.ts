import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedesTlsEndpoint } from '../../../brokers/aedes-tls.ts';
import type { EndpointHandle } from '../../../brokers/endpoint.ts';
import { AtEngine } from '../../at/engine.ts';
import { Transcript } from '../../at/transcript.ts';
import { createMemoryPair } from '../../transport/memory-pair.ts';
import { type FixturePki, makePki } from '../fixtures/pki.ts';
import type { PersonalityName } from '../personality.ts';
import { type RunningVirtualModem, startVirtualModem } from '../start.ts';
import { TEST_HOST, TEST_NETWORK } from '../testing.ts';

const TAG = 16842753;
const served: Record<string, { pki: FixturePki; endpoint: EndpointHandle }> = {};
const opened: RunningVirtualModem[] = [];

beforeAll(async () => {
  for (const [name, pki] of [
    ['valid', await makePki(TEST_HOST)],
    ['wrongName', await makePki(TEST_HOST, { leafName: 'other.test' })],
  ] as const) {
    served[name] = {
      pki,
      endpoint: await startAedesTlsEndpoint({ chainPem: pki.chainPem, keyPem: pki.keyPem }),
    };
  }
});
afterAll(async () => {
  for (const m of opened) m.stop();
  await Promise.all(Object.values(served).map((s) => s.endpoint.stop()));
});

async function rig(personality: PersonalityName = 'mfw-1.2.3') {
  const [host, modemSide] = createMemoryPair();
  const modem = await startVirtualModem(
    { family: 'nrf91-slm', personality, network: TEST_NETWORK },
    modemSide,
  );
  opened.push(modem);
  const at = new AtEngine(host, { transcript: new Transcript(), urcPrefixes: ['#XMQTTEVT:', 'Ready'] });
  await at.commandOk('AT+CMEE=1');
  return { at, modem };
}

/** PEM with CRLF line ends inside the quoted AT%CMNG content, as the modem wants it. */
const cmngContent = (pem: string) => pem.trim().replaceAll('\n', '\r\n');

async function provision(at: AtEngine, pem: string) {
  await at.commandOk('AT+CFUN=4');
  await at.commandOk(`AT%CMNG=0,${TAG},0,"${cmngContent(pem)}"`);
  await at.commandOk('AT+CFUN=1');
}

async function mqttConnect(at: AtEngine, server: string) {
  await at.commandOk('AT#XMQTTCFG="vm-nrf",60,1');
  await at.commandOk(`AT#XMQTTCON=1,"","","${TEST_HOST}",${served[server]?.endpoint.listenPort},${TAG}`);
  return at.waitForUrc(/^#XMQTTEVT: 0,/, { timeoutMs: 10_000 });
}

describe('nRF91 SLM: AT%CMNG credential store', () => {
  it('writes, lists and reads by sec_tag and type; refuses writes in CFUN=1 (518) and key reads (514)', async () => {
    const { at } = await rig();
    await at.commandOk('AT+CFUN=1');
    expect((await at.command(`AT%CMNG=0,${TAG},0,"x"`)).final).toBe('+CME ERROR: 518');
    await at.commandOk('AT+CFUN=4');
    await at.commandOk(`AT%CMNG=0,${TAG},0,"${cmngContent(served.valid?.pki.rootPem ?? '')}"`);
    await at.commandOk(`AT%CMNG=0,${TAG},2,"secret"`);
    const list = (await at.commandOk(`AT%CMNG=1,${TAG}`)).lines;
    expect(list.map((l) => l.split(',').slice(0, 2).join(','))).toEqual([
      `%CMNG: ${TAG},0`,
      `%CMNG: ${TAG},2`,
    ]);
    expect((await at.command(`AT%CMNG=2,${TAG},2`)).final).toBe('+CME ERROR: 514');
    expect((await at.command(`AT%CMNG=3,${TAG},1`)).final).toBe('+CME ERROR: 513');
    await at.commandOk(`AT%CMNG=3,${TAG},2`);
  });
});

describe('nRF91 SLM MQTT over TLS with the firmware personalities', () => {
  it('mfw-1.2.3 connects with the right CA, sends the broker name as SNI and publishes', async () => {
    const { at, modem } = await rig('mfw-1.2.3');
    await provision(at, served.valid?.pki.rootPem ?? '');
    expect(await mqttConnect(at, 'valid')).toBe('#XMQTTEVT: 0,0');
    await at.commandOk('AT#XMQTTPUB="trustlab/nrf","hello",1,0');
    expect(await at.waitForUrc(/^#XMQTTEVT: 3,/, { timeoutMs: 5_000 })).toBe('#XMQTTEVT: 3,0');
    const seen = served.valid?.endpoint.observations().at(-1);
    expect(seen?.clientHello?.sni).toBe(TEST_HOST);
    expect(modem.tlsAttempts().at(-1)?.checkName).toBe(TEST_HOST);
    await at.commandOk('AT#XMQTTCON=0');
  });

  it('mfw-1.2.0 sends no SNI but still checks the name', async () => {
    const { at } = await rig('mfw-1.2.0');
    await provision(at, served.valid?.pki.rootPem ?? '');
    expect(await mqttConnect(at, 'valid')).toBe('#XMQTTEVT: 0,0');
    await served.valid?.endpoint.settle(500);
    expect(served.valid?.endpoint.observations().at(-1)?.clientHello?.sni).toBeNull();
    await at.commandOk('AT#XMQTTCON=0');
    const other = await rig('mfw-1.2.0');
    await provision(other.at, served.wrongName?.pki.rootPem ?? '');
    expect(await mqttConnect(other.at, 'wrongName')).toMatch(/^#XMQTTEVT: 0,-\d+$/);
  });

  it('rejects the wrong CA', async () => {
    const { at } = await rig('mfw-1.2.3');
    await provision(at, served.valid?.pki.unrelatedRootPem ?? '');
    expect(await mqttConnect(at, 'valid')).toMatch(/^#XMQTTEVT: 0,-\d+$/);
  });
});

describe('nRF91 SLM secure socket', () => {
  it('#XCONNECT without #XSSOCKETOPT sets no hostname: no SNI and no name check', async () => {
    const { at, modem } = await rig('mfw-1.2.3');
    await provision(at, served.wrongName?.pki.rootPem ?? '');
    expect((await at.commandOk(`AT#XSSOCKET=1,1,0,${TAG},2`)).lines[0]).toMatch(/^#XSSOCKET: \d+,1,258$/);
    const r = await at.commandOk(`AT#XCONNECT="${TEST_HOST}",${served.wrongName?.endpoint.listenPort}`, {
      timeoutMs: 10_000,
    });
    expect(r.lines).toEqual(['#XCONNECT: 1']);
    expect(modem.tlsAttempts().at(-1)).toMatchObject({ sni: null, checkName: null, accepted: true });
    await at.commandOk('AT#XSOCKET=0');
  });

  it('with TLS_HOSTNAME set the name is checked', async () => {
    const { at } = await rig('mfw-1.2.3');
    await provision(at, served.wrongName?.pki.rootPem ?? '');
    await at.commandOk(`AT#XSSOCKET=1,1,0,${TAG},2`);
    await at.commandOk(`AT#XSSOCKETOPT=1,2,"${TEST_HOST}"`);
    const r = await at.command(`AT#XCONNECT="${TEST_HOST}",${served.wrongName?.endpoint.listenPort}`, {
      timeoutMs: 10_000,
    });
    expect(r.final).toBe('ERROR');
  });
});
