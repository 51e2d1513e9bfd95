import { describe, expect, it } from 'vitest';
import { AtEngine } from '../../at/engine.ts';
import { Transcript } from '../../at/transcript.ts';
import { createMemoryPair } from '../../transport/memory-pair.ts';
import type { MqttCaseInput } from '../driver.ts';
import { DEFAULT_INTENT } from '../tls-intent.ts';
import { SecTagNotOwnedError } from './cmng.ts';
import { DEFAULT_NRF91_OWNERSHIP, Nrf91SlmDriver } from './driver.ts';
import { ScriptedSlm, type ScriptedSlmOptions } from './scripted-slm.ts';
import { NRF91_SLM_TIMEOUTS } from './timeouts.ts';

const RIGHT_PEM = '-----BEGIN CERTIFICATE-----\nUklHSFQ=\n-----END CERTIFICATE-----\n';
const WRONG_PEM = '-----BEGIN CERTIFICATE-----\nV1JPTkc=\n-----END CERTIFICATE-----\n';
/** nRF Cloud's sec_tag, holding someone else's CA: must be left exactly as it was. */
const FOREIGN_KEY = '16842753,0';
const FOREIGN = '-----BEGIN CERTIFICATE-----\r\nbnJmY2xvdWQ=\r\n-----END CERTIFICATE-----\r\n';
const OUR_TAG = DEFAULT_NRF91_OWNERSHIP.secTags.first;

const FAST = {
  ...NRF91_SLM_TIMEOUTS,
  basic: 1_000,
  cfun: 1_000,
  cmng: 1_000,
  connect: 1_000,
  mqttPacket: 1_000,
};

function rig(options: Partial<ScriptedSlmOptions> = {}) {
  const [host, device] = createMemoryPair();
  const slm = new ScriptedSlm(device, {
    credentials: { [FOREIGN_KEY]: FOREIGN },
    // The CA with CR LF line ends, as %CMNG stores it, must be the right one.
    accepts: (ca) => ca === RIGHT_PEM.replaceAll('\n', '\r\n'),
    ...options,
  });
  const transcript = new Transcript();
  const driver = new Nrf91SlmDriver(new AtEngine(host, { transcript }), DEFAULT_NRF91_OWNERSHIP, FAST);
  return { slm, driver, transcript };
}

const input = (anchorsPem: string | null): MqttCaseInput => ({
  caseId: 'anchors::right-ca',
  anchorsPem,
  host: '127.0.0.1',
  port: 8883,
  intent: { ...DEFAULT_INTENT, version: 'TLSv1.2' },
  clientId: 'trustlab-case',
  topic: 'trustlab/case',
  payload: 'case=x nonce=1',
});

describe('Nrf91SlmDriver against a scripted Serial LTE Modem', () => {
  it('identifies the modem and reads the #XMQTTCON form from its test answer', async () => {
    const { driver } = rig();
    const id = await driver.identify();
    expect(id).toMatchObject({
      manufacturer: 'Nordic Semiconductor ASA',
      model: 'nRF9160-SICA',
      imei: '352656100000001',
    });
    expect(id.capabilities?.['AT#XMQTTCON=?']?.[0]).toContain('<sec_tag>');
  });

  it('right CA: writes it offline with CR LF, connects with the sec_tag, publishes, and restores everything', async () => {
    const { slm, driver } = rig();
    await driver.identify();
    const out = await driver.runMqttCase(input(RIGHT_PEM));
    expect(out.error).toBeNull();
    expect(out.codes.map((c) => c.raw)).toEqual(['#XMQTTEVT: 0,0', '#XMQTTEVT: 3,0', '#XMQTTEVT: 1,0']);
    expect(out.reached).toEqual({ tlsOpened: true, mqttConnected: true, publishAcked: true });
    expect(slm.mqttSecTag).toBe(OUR_TAG);
    expect(slm.published).toEqual([{ topic: 'trustlab/case', payload: 'case=x nonce=1' }]);
    // Offline before the write, our credential gone afterwards, CFUN back to 1, foreign tag untouched.
    const sent = slm.received;
    expect(sent.indexOf('AT+CFUN=4')).toBeLessThan(sent.findIndex((l) => l.startsWith('AT%CMNG=0,')));
    expect([...slm.credentials.keys()]).toEqual([FOREIGN_KEY]);
    expect(slm.credentials.get(FOREIGN_KEY)).toBe(FOREIGN);
    expect(slm.cfun).toBe(1);
    expect(out.healthy).toBe(true);
    expect(out.restoreFailures).toEqual([]);
  });

  it('wrong CA: #XMQTTCON answers ERROR, recorded raw; nothing reached; the device is left as found', async () => {
    const { slm, driver } = rig();
    const out = await driver.runMqttCase(input(WRONG_PEM));
    expect(out.codes.map((c) => c.raw)).toEqual(['ERROR']);
    expect(out.reached).toEqual({ tlsOpened: false, mqttConnected: false, publishAcked: false });
    expect(out.healthy).toBe(true);
    expect([...slm.credentials.keys()]).toEqual([FOREIGN_KEY]);
    expect(slm.credentials.get(FOREIGN_KEY)).toBe(FOREIGN);
    expect(slm.cfun).toBe(1);
  });

  it('puts an offline modem (CFUN=4) back offline after bringing the radio up for the case', async () => {
    const { slm, driver } = rig({ cfun: 4 });
    const out = await driver.runMqttCase(input(RIGHT_PEM));
    expect(out.reached.publishAcked).toBe(true);
    expect(slm.received).toContain('AT+CFUN=1');
    expect(slm.cfun).toBe(4);
  });

  it('replaces a leftover credential under its own sec_tag, and never lists or deletes outside the range', async () => {
    const { slm, driver } = rig({ credentials: { [FOREIGN_KEY]: FOREIGN, [`${OUR_TAG},0`]: 'stale' } });
    const out = await driver.runMqttCase(input(RIGHT_PEM));
    expect(out.reached.publishAcked).toBe(true);
    const cmng = slm.received.filter((l) => l.startsWith('AT%CMNG='));
    expect(cmng.every((l) => l.startsWith(`AT%CMNG=1,${OUR_TAG}`) || l.includes(`,${OUR_TAG},`))).toBe(true);
    expect([...slm.credentials.keys()]).toEqual([FOREIGN_KEY]);
    await expect(driver.credentials.delete(16842753, 0)).rejects.toBeInstanceOf(SecTagNotOwnedError);
    await expect(driver.credentials.write(16842753, 0, RIGHT_PEM)).rejects.toBeInstanceOf(
      SecTagNotOwnedError,
    );
  });

  it('puts the client id in #XMQTTCON when the SLM lists it there (older releases)', async () => {
    const { slm, driver } = rig({ clientIdInConnect: true });
    await driver.identify();
    const out = await driver.runMqttCase(input(RIGHT_PEM));
    expect(out.reached.publishAcked).toBe(true);
    expect(slm.received.some((l) => l.startsWith('AT#XMQTTCON=1,"trustlab-case","",""'))).toBe(true);
    expect(slm.received.some((l) => l.startsWith('AT#XMQTTCFG'))).toBe(false);
  });

  it('refuses settings SLM MQTT cannot express, touching nothing', async () => {
    const { slm, driver } = rig();
    const out = await driver.runMqttCase({
      ...input(RIGHT_PEM),
      intent: { ...DEFAULT_INTENT, version: 'TLSv1.2', sni: false },
    });
    expect(out.error).toMatch(/not expressible on nrf91-slm: no switch for SNI \(it always sends it\)/);
    expect(out.healthy).toBe(true);
    // Only the read-only test command it learns the MQTT client from.
    expect(slm.received.filter((l) => l !== 'AT')).toEqual(['AT#XMQTTCON=?']);
  });

  it('TLS socket: hostname "NULL" and an explicit peer_verify go to #XSSOCKETOPT and #XSSOCKET', async () => {
    const seen: { peerVerify: number; hostname: string | null }[] = [];
    const { slm, driver } = rig({
      accepts: (_ca, _host, peerVerify, hostname) => {
        seen.push({ peerVerify, hostname });
        return true;
      },
    });
    const out = await driver.runTlsSocketCase({
      caseId: 'x',
      anchorsPem: WRONG_PEM,
      host: '127.0.0.1',
      port: 8883,
      peerVerify: 2,
      hostname: null,
    });
    expect(out.codes.map((c) => c.raw)).toEqual([
      '#XSSOCKET: 1,1,258',
      '#XCONNECT: 1',
      '#XSOCKET: 0,"closed"',
    ]);
    expect(out.stages.tls).not.toBeNull();
    expect(seen).toEqual([{ peerVerify: 2, hostname: null }]);
    expect(slm.received).toContain('AT#XSSOCKETOPT=1,2,"NULL"');
    expect([...slm.credentials.keys()]).toEqual([FOREIGN_KEY]);
  });

  it('abort while the handshake hangs: the credential is deleted once and CFUN restored', async () => {
    const { slm, driver } = rig({ connectDelayMs: 5_000 });
    const running = driver.runMqttCase(input(RIGHT_PEM));
    // Abort while the connect is in the module's hands, not at a guessed moment.
    await slm.whenReceived((line) => line.startsWith('AT#XMQTTCON=1'));
    const failures = await driver.abort();
    const out = await running;
    expect(failures).toEqual([]);
    expect(out.error).toMatch(/no answer within/);
    expect([...slm.credentials.keys()]).toEqual([FOREIGN_KEY]);
    expect(slm.cfun).toBe(1);
    expect(slm.received.filter((l) => l.startsWith('AT%CMNG=3,'))).toHaveLength(1);
  });

  it('mutual TLS: client certificate and key go to the same owned sec_tag (types 1 and 2) and are deleted after', async () => {
    const { slm, driver } = rig();
    const out = await driver.runMqttCase({
      ...input(RIGHT_PEM),
      intent: { ...DEFAULT_INTENT, version: 'TLSv1.2', peerVerification: 'mutual' },
      clientCertificate: { certPem: 'CERT\n', keyPem: 'KEY\n' },
    });
    expect(out.error).toBeNull();
    const writes = slm.received
      .filter((l) => l.startsWith('AT%CMNG=0,'))
      .map((l) => l.slice(0, l.indexOf('"')));
    expect(writes).toEqual([`AT%CMNG=0,${OUR_TAG},0,`, `AT%CMNG=0,${OUR_TAG},1,`, `AT%CMNG=0,${OUR_TAG},2,`]);
    expect([...slm.credentials.keys()]).toEqual([FOREIGN_KEY]);
  });
});
