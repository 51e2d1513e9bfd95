import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtEngine, dialectOptions } from '../../at/engine.ts';
import { Transcript } from '../../at/transcript.ts';
import { createMemoryPair } from '../../transport/memory-pair.ts';
import { formatCclk, parseCclk } from '../cclk.ts';
import { QUECTEL_AT } from './at-dialect.ts';
import { NotOwnedError, QuectelFiles } from './files.ts';
import { ResetBudget, ResetBudgetExceededError } from './reset-budget.ts';
import { parseSslReadBack, sameSslValue } from './ssl-keys.ts';

describe('AT+CCLK time', () => {
  it('writes UTC and reads any quarter-hour offset back to the same instant', () => {
    const t = new Date('2031-02-03T04:05:06Z');
    expect(formatCclk(t)).toBe('"31/02/03,04:05:06+00"');
    expect(parseCclk(`+CCLK: ${formatCclk(t)}`)?.toISOString()).toBe(t.toISOString());
    // 21/01/27 07:30:39 at +36 quarter hours (+9 h) is 22:30:39 UTC the day before (TinyGSM#486 shape).
    expect(parseCclk('+CCLK: "21/01/27,07:30:39+36"')?.toISOString()).toBe('2021-01-26T22:30:39.000Z');
    expect(parseCclk('+CCLK: garbage')).toBeNull();
  });
});

describe('ResetBudget', () => {
  it('allows the daily number of resets per device, refuses the next, and starts again the next UTC day', () => {
    let now = new Date('2026-11-23T10:00:00Z');
    const budget = new ResetBudget({ limit: 2, now: () => now });
    budget.consume('imei-a');
    budget.consume('imei-a');
    expect(() => budget.consume('imei-a')).toThrow(ResetBudgetExceededError);
    expect(budget.remaining('imei-b')).toBe(2);
    now = new Date('2026-11-24T00:00:01Z');
    expect(budget.remaining('imei-a')).toBe(2);
  });

  it('shares the count between runs through its file, and fails closed on a damaged file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-budget-'));
    try {
      const file = join(dir, 'resets.json');
      new ResetBudget({ file, limit: 30 }).consume('imei-a');
      expect(new ResetBudget({ file, limit: 30 }).remaining('imei-a')).toBe(29);
      expect(JSON.parse(readFileSync(file, 'utf8'))['imei-a'].used).toBe(1);
      writeFileSync(file, '{ torn');
      expect(() => new ResetBudget({ file }).consume('imei-a')).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('QSSLCFG values', () => {
  it('parses read-backs and compares hex regardless of case and leading zeros', () => {
    expect(parseSslReadBack(['+QSSLCFG: "cacert",1,"UFS:a.pem"'], 'cacert', 1)).toBe('UFS:a.pem');
    expect(parseSslReadBack(['+QSSLCFG: "sni",2,1'], 'sni', 1)).toBeNull();
    expect(sameSslValue('ciphersuite', '0XFFFF', '0xffff')).toBe(true);
    expect(sameSslValue('cacert', 'UFS:a', 'UFS:A')).toBe(false);
  });
});

describe('QuectelFiles ownership', () => {
  it('refuses to upload or delete a name outside the owned prefix before sending anything', async () => {
    const [host, device] = createMemoryPair();
    const sent: string[] = [];
    device.on('data', (c: Buffer) => sent.push(c.toString()));
    const files = new QuectelFiles(
      new AtEngine(host, { transcript: new Transcript(), ...dialectOptions(QUECTEL_AT) }),
      'trustlab_',
      {
        basic: 100,
        uploadTimeoutS: 1,
      },
    );
    await expect(files.delete('UFS:customer_root.pem')).rejects.toBeInstanceOf(NotOwnedError);
    await expect(files.delete('UFS:trustlab_*')).rejects.toBeInstanceOf(NotOwnedError);
    await expect(files.upload('UFS:cacert.pem', Buffer.from('x'))).rejects.toBeInstanceOf(NotOwnedError);
    expect(sent).toEqual([]);
    expect(
      () =>
        new QuectelFiles(
          new AtEngine(host, { transcript: new Transcript(), ...dialectOptions(QUECTEL_AT) }),
          '*',
          {
            basic: 1,
            uploadTimeoutS: 1,
          },
        ),
    ).toThrow();
  });
});
