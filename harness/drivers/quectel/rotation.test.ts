import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSONALITIES } from '../../virtual-modem/personality.ts';
import { quectelRig } from '../../virtual-modem/quectel/rig.ts';
import type { RotationCaseInput } from '../rotation.ts';
import { type RotationSides, startRotationSides } from '../rotation-testing.ts';
import { QuectelDriver } from './driver.ts';
import { ResetBudget } from './reset-budget.ts';
import { QUECTEL_TIMEOUTS, type QuectelTimeouts } from './timeouts.ts';

/** A file someone else put on the module: it must survive every rotation byte for byte. */
const FOREIGN = { 'customer_root.pem': '-----BEGIN CERTIFICATE-----\nnot ours\n-----END CERTIFICATE-----\n' };

let sides: RotationSides;
beforeAll(async () => {
  sides = await startRotationSides('rotation');
}, 60_000);
afterAll(async () => sides?.stop());

const input = (kind: RotationCaseInput['kind']) => sides.input(kind);

function rig(
  budget = new ResetBudget({ limit: 5 }),
  network: { attachMs?: number; timeouts?: Partial<QuectelTimeouts> } = {},
) {
  const r = quectelRig(PERSONALITIES.strict, {
    files: FOREIGN,
    ...(network.attachMs !== undefined ? { attachMs: network.attachMs } : {}),
  });
  const timeouts = { ...QUECTEL_TIMEOUTS, ...network.timeouts };
  return { ...r, driver: new QuectelDriver(r.at, undefined, timeouts, { resetBudget: budget }) };
}

describe('Quectel CA rotation on the virtual modem', () => {
  it('rebinds cacert to a new file and reconnects without reboot; the old file goes only after that', async () => {
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
      expect(out.rebind?.raw).toBe('OK');
      expect(out.oldDeleted?.raw).toBe('OK');
      // The deletion came after the rebound connection published, never before.
      const sent = r.transcript
        .since(0)
        .filter((e) => e.dir === 'tx')
        .map((e) => e.data);
      const del = sent.findIndex((l) => l.startsWith(`AT+QFDEL="${out.stores.old}"`));
      const reboundPublish = out.steps.find((s) => s.name === 'new-ca/new-server')?.endedAt ?? '';
      expect(del).toBeGreaterThan(0);
      expect(out.oldDeleted?.at.localeCompare(reboundPublish)).toBeGreaterThanOrEqual(0);
      expect(sent.some((l) => /^AT\+CFUN=1,1/.test(l))).toBe(false);
      // Left as found: only the foreign file, the context back to its default.
      expect([...r.modem.files().keys()]).toEqual(['customer_root.pem']);
      const ctx = await r.at.commandOk('AT+QSSLCFG="cacert",1');
      expect(ctx.lines).toContain('+QSSLCFG: "cacert",1,""');
    } finally {
      r.close();
    }
  }, 60_000);

  it('records what a reboot keeps: UFS files survive, the SSL context does not', async () => {
    const budget = new ResetBudget({ limit: 1 });
    const r = rig(budget);
    try {
      const identity = await r.driver.identify();
      const out = await r.driver.runRotationCase(input('reboot'));
      expect(out.error).toBeNull();
      expect(out.healthy).toBe(true);
      expect(out.steps.map((s) => [s.name, s.reached.publishAcked])).toEqual([
        ['before-reboot', true],
        ['after-reboot', true],
      ]);
      const reboot = out.reboot;
      expect(reboot?.announced).toBe('RDY');
      expect(reboot?.before['QSSLCFG cacert']).toBe(`+QSSLCFG: "cacert",1,"${out.stores.new}"`);
      expect(reboot?.after['QSSLCFG cacert']).toBe('+QSSLCFG: "cacert",1,""');
      expect(reboot?.lost).toEqual(
        expect.arrayContaining(['QSSLCFG cacert', 'QSSLCFG seclevel', 'QSSLCFG sni', 'QMTCFG ssl']),
      );
      expect(reboot?.filesAfter).toEqual(reboot?.filesBefore);
      expect(reboot?.filesAfter).toContain(out.stores.new?.replace(/^UFS:/, ''));
      expect(budget.remaining(identity.imei ?? '')).toBe(0);
      expect([...r.modem.files().keys()]).toEqual(['customer_root.pem']);

      // The budget is spent: the next reboot case refuses before touching the module.
      const mark = r.transcript.mark();
      const again = await r.driver.runRotationCase(input('reboot'));
      expect(again.error).toMatch(/reset budget .* spent/);
      expect(again.reboot).toBeNull();
      expect(r.transcript.since(mark).some((e) => e.dir === 'tx' && e.data.startsWith('AT+CFUN=1,1'))).toBe(
        false,
      );
      expect([...r.modem.files().keys()]).toEqual(['customer_root.pem']);
    } finally {
      r.close();
    }
  }, 60_000);

  it('after the reboot, waits (bounded) for the module to register before it opens again', async () => {
    const r = rig(undefined, { attachMs: 700, timeouts: { registrationPoll: 100 } });
    try {
      await r.driver.identify();
      const mark = r.transcript.mark();
      const out = await r.driver.runRotationCase(input('reboot'));
      expect(out.steps.map((s) => [s.name, s.reached.publishAcked])).toEqual([
        ['before-reboot', true],
        ['after-reboot', true],
      ]);
      // The raw answer is the code (compared across runs); the time it took is a diagnostic.
      expect(out.codes.find((c) => c.step === 'registration')?.raw).toBe('+CEREG: 0,1');
      const waited = out.diagnostics.find((d) => d.step === 'registration')?.raw ?? '';
      expect(waited).toMatch(/^registered after \d+ ms$/);
      expect(Number(/after (\d+) ms/.exec(waited)?.[1])).toBeGreaterThanOrEqual(600);
      const polls = r.transcript.since(mark).filter((e) => e.dir === 'tx' && e.data.startsWith('AT+CEREG?'));
      expect(polls.length).toBeGreaterThanOrEqual(2); // at least one "not yet", then "registered"
    } finally {
      r.close();
    }
  }, 60_000);

  it('a module that does not register within the bound: noted, the case goes on and ends', async () => {
    const r = rig(undefined, { attachMs: 60_000, timeouts: { registration: 400, registrationPoll: 100 } });
    try {
      await r.driver.identify();
      const out = await r.driver.runRotationCase(input('reboot'));
      expect(out.codes.find((c) => c.step === 'registration')?.raw).toBe('+CEREG: 0,2');
      expect(out.diagnostics.find((d) => d.step === 'registration')?.raw).toMatch(
        /^not registered after \d+ ms \(bound 400 ms\)$/,
      );
      // The open after the reboot fails as the module reports it, and nothing is left behind.
      expect(out.steps.map((s) => [s.name, s.reached.publishAcked])).toEqual([
        ['before-reboot', true],
        ['after-reboot', false],
      ]);
      expect([...r.modem.files().keys()]).toEqual(['customer_root.pem']);
    } finally {
      r.close();
    }
  }, 60_000);
});
