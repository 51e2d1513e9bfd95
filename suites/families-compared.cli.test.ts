import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FAMILY_NAMES } from '../harness/families.ts';
import type { TrustModelComparison } from '../reports/evidence/compare.ts';
import { RESULTS_FILE, readRecords } from '../reports/results-log.ts';
import { readRunManifest } from '../reports/run-manifest.ts';

const BIN = fileURLToPath(new URL('../bin/trustlab.js', import.meta.url));
const run = promisify(execFile);
const ENV = { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' };

/** `trustlab <args>`; exit 1 (findings, or differences) is an answer, anything else a failure. */
async function trustlab(args: string[]): Promise<string> {
  try {
    return (await run(process.execPath, [BIN, ...args], { env: ENV, timeout: 400_000, maxBuffer: 64 << 20 }))
      .stdout;
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    if (e.code !== 1) throw err;
    return e.stdout ?? '';
  }
}

describe('the default matrix on every family’s virtual modem, trust models compared', () => {
  it('runs each from real handshakes and shows where the families differ, each answer with its reason', async () => {
    const root = mkdtempSync(join(tmpdir(), 'trustlab-families-'));
    const dirs: Record<string, string> = {};
    for (const family of FAMILY_NAMES) {
      dirs[family] = join(root, family);
      await trustlab([
        'run',
        '--driver',
        family,
        '--out',
        dirs[family] as string,
        '--no-allure-report',
        '--baseline',
        'none',
      ]);
      const records = readRecords(join(dirs[family] as string, RESULTS_FILE));
      // Accepted and rejected cases from real handshakes on every family; nothing left undecided.
      expect(records.filter((r) => r.outcome === 'accepted').length, family).toBeGreaterThan(20);
      expect(records.filter((r) => r.outcome === 'rejected').length, family).toBeGreaterThan(20);
      expect(
        records.filter((r) => r.outcome === 'inconclusive' || r.outcome === 'blocked').map((r) => r.case),
        family,
      ).toEqual([]);
    }

    const comparison = JSON.parse(
      await trustlab([
        'compare',
        ...FAMILY_NAMES.map((f) => dirs[f] as string),
        '--json',
        '--markdown',
        join(root, 'compared.md'),
      ]),
    ) as TrustModelComparison;
    writeFileSync(join(root, 'compared.json'), JSON.stringify(comparison, null, 2));
    const byId = new Map(comparison.differing.map((q) => [q.id, q]));
    const answer = (id: string, family: string) =>
      byId.get(id as never)?.answers[FAMILY_NAMES.indexOf(family)] ?? null;

    expect(comparison.differing.length).toBeGreaterThan(0);
    // Every difference carries each family's reason, and a not-applicable one names what is missing.
    for (const q of comparison.differing) {
      for (const a of q.answers) {
        expect(a.why, `${q.id} on ${a.label}`).not.toBe('');
        if (a.answer === 'not-applicable')
          expect(a.why, `${q.id} on ${a.label}`).toMatch(/not expressible on|no SSL context|has no/);
      }
    }
    // Where the dialects differ, and why: a switch only one of them has.
    expect(answer('switch.ignoreinvalidcertsign.changes-signature-checks', 'simcom-a76xx')).toMatchObject({
      answer: 'not-applicable',
      why: expect.stringMatching(/no quectel.ignoreinvalidcertsign switch/),
    });
    expect(answer('switch.ignoreinvalidcertsign.changes-signature-checks', 'quectel')?.answer).toMatch(
      /^(yes|no)$/,
    );
    expect(answer('tls.cipher-suite-limit.respected', 'simcom-a76xx')).toMatchObject({
      answer: 'not-applicable',
      why: expect.stringMatching(/no setting that limits the cipher suites/),
    });
    expect(answer('tls.cipher-suite-limit.respected', 'quectel')?.answer).toBe('yes');
    // The SNI switch: Quectel and SIMCom have one, the SLM has none.
    expect(answer('sni.sent-when-off', 'nrf91-slm')?.answer).toBe('not-applicable');

    // The evidence states the SNI default each device was found with, where its dialect can read it.
    expect(readRunManifest(dirs['simcom-a76xx'] as string)?.tls?.asFound).toEqual([
      expect.objectContaining({ name: 'SNI', meaning: 'SNI off (enableSNI 0)' }),
    ]);
    for (const family of FAMILY_NAMES)
      expect(readRunManifest(dirs[family] as string)?.tls?.basis.length, family).toBeGreaterThan(0);
  }, 900_000);
});
