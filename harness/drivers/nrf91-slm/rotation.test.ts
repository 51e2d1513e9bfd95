import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtEngine } from '../../at/engine.ts';
import { Transcript } from '../../at/transcript.ts';
import { createMemoryPair } from '../../transport/memory-pair.ts';
import { VirtualNrf91Modem, type VirtualNrf91Options } from '../../virtual-modem/nrf91/modem.ts';
import { PERSONALITIES } from '../../virtual-modem/personality.ts';
import { TEST_NETWORK } from '../../virtual-modem/testing.ts';
import type { RotationCaseInput } from '../rotation.ts';
import { type RotationSides, startRotationSides } from '../rotation-testing.ts';
import { DEFAULT_NRF91_OWNERSHIP, Nrf91SlmDriver } from './driver.ts';
import { NRF91_SLM_TIMEOUTS, type Nrf91SlmTimeouts } from './timeouts.ts';

/** nRF Cloud's sec_tag with someone else's CA: it must survive every rotation byte for byte. */
const FOREIGN = {
  tag: 16842753,
  type: 0,
  content: '-----BEGIN CERTIFICATE-----\r\nbm90IG91cnM=\r\n-----END CERTIFICATE-----',
};
const FIRST = DEFAULT_NRF91_OWNERSHIP.secTags.first;

let sides: RotationSides;
beforeAll(async () => {
  sides = await startRotationSides('nrf rotation');
}, 60_000);
afterAll(async () => sides?.stop());

const input = (kind: RotationCaseInput['kind']) => sides.input(kind);

function rig(modem: Partial<VirtualNrf91Options> = {}, timeouts: Partial<Nrf91SlmTimeouts> = {}) {
  const [host, modemSide] = createMemoryPair();
  const device = new VirtualNrf91Modem(modemSide, {
    personality: PERSONALITIES['mfw-1.2.3'],
    network: TEST_NETWORK,
    credentials: [FOREIGN],
    ...modem,
  });
  const transcript = new Transcript();
  const at = new AtEngine(host, { transcript });
  const driver = new Nrf91SlmDriver(at, DEFAULT_NRF91_OWNERSHIP, { ...NRF91_SLM_TIMEOUTS, ...timeouts });
  return {
    device,
    at,
    driver,
    /** Commands the driver sent, in order. */
    sent: () =>
      transcript
        .since(0)
        .filter((e) => e.dir === 'tx')
        .map((e) => e.data.trim()),
    close() {
      host.destroy();
      modemSide.destroy();
    },
  };
}

/** The sec_tag each #XMQTTCON connect named, in order. */
const connectTags = (sent: readonly string[]) =>
  sent.flatMap((l) => {
    const m = /^AT#XMQTTCON=1,.*,(\d+)\s*$/.exec(l);
    return m ? [Number(m[1])] : [];
  });

/** Only the foreign credential is left, exactly as it was. */
function expectOnlyForeign(device: VirtualNrf91Modem) {
  expect(device.credentials()).toEqual([FOREIGN]);
}

describe('nRF91 SLM CA rotation on the virtual nRF91', () => {
  it('rebinds by connecting with a second sec_tag, without reboot; the old CA goes only after it published', async () => {
    const r = rig();
    try {
      await r.driver.identify();
      const out = await r.driver.runRotationCase(input('rebind'));
      expect(out.error).toBeNull();
      expect(out.healthy).toBe(true);
      const seen = Object.fromEntries(out.steps.map((s) => [s.name, s.reached.publishAcked]));
      expect(seen).toEqual({
        'old-ca/old-server': true,
        'old-ca/new-server': false,
        'new-ca/new-server': true,
        'new-ca/old-server': false,
      });
      // The refused connections failed in the handshake, not later.
      expect(out.steps.find((s) => s.name === 'old-ca/new-server')?.reached.tlsOpened).toBe(false);
      expect(out.stores).toEqual({ old: `sec_tag:${FIRST}`, new: `sec_tag:${FIRST + 1}` });
      expect(out.rebind?.raw).toBe('#XMQTTEVT: 0,0');
      expect(out.oldDeleted).toMatchObject({ step: `AT%CMNG=3,${FIRST},0`, raw: 'OK' });

      const sent = r.sent();
      // Old CA on the first tag for the first two connections, new CA on the second for the last two.
      expect(connectTags(sent)).toEqual([FIRST, FIRST, FIRST + 1, FIRST + 1]);
      expect(sent.filter((l) => l.startsWith('AT%CMNG=0,')).map((l) => l.split(',', 3).join(','))).toEqual([
        `AT%CMNG=0,${FIRST},0`,
        `AT%CMNG=0,${FIRST + 1},0`,
      ]);
      // The old CA was deleted after the rebound connection published, never before.
      const del = sent.indexOf(`AT%CMNG=3,${FIRST},0`);
      const reboundPublish = sent.findIndex(
        (l, i) => i > sent.findIndex((x) => x.endsWith(`,${FIRST + 1}`)) && l.startsWith('AT#XMQTTPUB='),
      );
      expect(reboundPublish).toBeGreaterThan(0);
      expect(del).toBeGreaterThan(reboundPublish);
      const reboundEnd = out.steps.find((s) => s.name === 'new-ca/new-server')?.endedAt ?? '';
      expect(out.oldDeleted?.at.localeCompare(reboundEnd)).toBeGreaterThanOrEqual(0);
      expect(sent.some((l) => l.startsWith('AT#XRESET'))).toBe(false);
      // Nothing outside the owned range was written or deleted; only the foreign CA is left.
      for (const l of sent.filter((x) => /^AT%CMNG=[03],/.test(x))) {
        const tag = Number(l.split(',')[1]);
        expect(tag === FIRST || tag === FIRST + 1).toBe(true);
      }
      expectOnlyForeign(r.device);
      expect((await r.at.commandOk('AT+CFUN?')).lines).toContain('+CFUN: 0');
    } finally {
      r.close();
    }
  }, 60_000);

  it('records what AT#XRESET keeps: the credential survives, CFUN / CMEE / #XMQTTCFG do not; reconnects without a new write', async () => {
    const r = rig();
    try {
      await r.driver.identify();
      const out = await r.driver.runRotationCase(input('reboot'));
      expect(out.error).toBeNull();
      expect(out.healthy).toBe(true);
      expect(out.steps.map((s) => [s.name, s.reached.publishAcked])).toEqual([
        ['before-reboot', true],
        ['after-reboot', true],
      ]);
      expect(out.stores).toEqual({ new: `sec_tag:${FIRST}` });
      const reboot = out.reboot;
      expect(reboot?.announced).toBe('Ready');
      expect(reboot?.filesBefore).toEqual([
        expect.stringMatching(new RegExp(`^%CMNG: ${FIRST},0,"[0-9A-F]{64}"$`)),
      ]);
      expect(reboot?.filesAfter).toEqual(reboot?.filesBefore);
      expect(reboot?.before).toMatchObject({ CFUN: '+CFUN: 1', CMEE: '+CMEE: 1' });
      expect(reboot?.before.XMQTTCFG).toMatch(/^#XMQTTCFG: "rot-reboot-before-reboo",60,1$/);
      expect(reboot?.after).toEqual({ CFUN: '+CFUN: 0', CMEE: '+CMEE: 0', XMQTTCFG: '#XMQTTCFG: "",0,0' });
      expect(reboot?.lost).toEqual(['CFUN', 'CMEE', 'XMQTTCFG']);
      expect(reboot?.kept).toEqual([]);
      expect(out.codes.find((c) => c.step === 'reset')?.raw).toBe('OK');
      expect(out.codes.find((c) => c.step === 'registration')?.raw).toBe('+CEREG: 0,1');

      const sent = r.sent();
      // One write, before the reboot; the same sec_tag on both sides of it.
      expect(sent.filter((l) => l.startsWith('AT%CMNG=0,'))).toHaveLength(1);
      expect(sent.findIndex((l) => l.startsWith('AT%CMNG=0,'))).toBeLessThan(sent.indexOf('AT#XRESET'));
      expect(connectTags(sent)).toEqual([FIRST, FIRST]);
      // After the restart: radio on before the reconnect.
      const reset = sent.indexOf('AT#XRESET');
      const cfun1 = sent.indexOf('AT+CFUN=1', reset);
      expect(cfun1).toBeGreaterThan(reset);
      expect(sent.findIndex((l, i) => i > reset && l.startsWith('AT#XMQTTCON=1'))).toBeGreaterThan(cfun1);
      expectOnlyForeign(r.device);
    } finally {
      r.close();
    }
  }, 60_000);

  it('after the restart, waits (bounded) for +CEREG to say registered before it connects again', async () => {
    const r = rig({ attachMs: 700 }, { registrationPollMs: 100 });
    try {
      await r.driver.identify();
      const out = await r.driver.runRotationCase(input('reboot'));
      expect(out.error).toBeNull();
      expect(out.steps.map((s) => [s.name, s.reached.publishAcked])).toEqual([
        ['before-reboot', true],
        ['after-reboot', true],
      ]);
      // The raw answer is the code (compared across runs); the time it took is a diagnostic.
      expect(out.codes.find((c) => c.step === 'registration')?.raw).toBe('+CEREG: 0,1');
      const waited = out.diagnostics.find((d) => d.step === 'registration')?.raw ?? '';
      expect(waited).toMatch(/^registered after \d+ ms$/);
      expect(Number(/after (\d+) ms/.exec(waited)?.[1])).toBeGreaterThanOrEqual(600);
      const sent = r.sent();
      const polls = sent.slice(sent.indexOf('AT#XRESET')).filter((l) => l === 'AT+CEREG?');
      expect(polls.length).toBeGreaterThanOrEqual(2); // at least one "not yet", then "registered"
    } finally {
      r.close();
    }
  }, 60_000);

  it('a modem that does not register within the bound: a clear error, and nothing left behind', async () => {
    const r = rig({ attachMs: 60_000 }, { registration: 400, registrationPollMs: 100 });
    try {
      await r.driver.identify();
      const out = await r.driver.runRotationCase(input('reboot'));
      expect(out.error).toMatch(/not registered within 400 ms: \+CEREG: 0,2/);
      expect(out.healthy).toBe(true);
      expect(out.steps).toEqual([]);
      expectOnlyForeign(r.device);
    } finally {
      r.close();
    }
  }, 60_000);

  it('an SLM without AT#XRESET: the raw answer is recorded and the case stops, credentials removed', async () => {
    const r = rig({ withoutCommands: ['#XRESET'] });
    try {
      await r.driver.identify();
      const out = await r.driver.runRotationCase(input('reboot'));
      expect(out.error).toMatch(/^AT#XRESET answered ERROR: this SLM cannot be restarted over AT/);
      expect(out.healthy).toBe(true);
      expect(out.codes.find((c) => c.step === 'reset')?.raw).toBe('ERROR');
      expect(out.reboot).toBeNull();
      expect(out.steps.map((s) => s.name)).toEqual(['before-reboot']);
      // No other way of restarting was tried.
      expect(r.sent().filter((l) => /^AT\+CFUN=1,1|^AT#X(MODEM)?RESET/.test(l))).toEqual(['AT#XRESET']);
      expectOnlyForeign(r.device);
    } finally {
      r.close();
    }
  }, 60_000);

  it('a Ready banner that never arrives after OK: noted as such, the read-back still tells what happened', async () => {
    const r = rig({ faults: [{ kind: 'lose-urc', urc: '^Ready$' }] }, { reboot: 500 });
    try {
      await r.driver.identify();
      const out = await r.driver.runRotationCase(input('reboot'));
      expect(out.error).toBeNull();
      expect(out.reboot?.announced).toBe('no Ready seen after OK; SLM answered AT');
      expect(out.reboot?.after.CFUN).toBe('+CFUN: 0');
      expect(out.steps.map((s) => [s.name, s.reached.publishAcked])).toEqual([
        ['before-reboot', true],
        ['after-reboot', true],
      ]);
      expectOnlyForeign(r.device);
    } finally {
      r.close();
    }
  }, 60_000);

  it('a restart the harness did not ask for makes the case unhealthy', async () => {
    const r = rig({ faults: [{ kind: 'reboot', on: { command: '^AT#XMQTTPUB=' } }] }, { mqttPacket: 1_000 });
    try {
      await r.driver.identify();
      const out = await r.driver.runRotationCase(input('rebind'));
      expect(out.healthy).toBe(false);
      expect(out.error).toMatch(/module restarted during the case \(Ready at /);
      expectOnlyForeign(r.device);
    } finally {
      r.close();
    }
  }, 60_000);
});
