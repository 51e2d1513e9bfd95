import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PERSONALITIES } from '../harness/virtual-modem/personality.ts';
import type { RunDiff } from './diff.ts';

const BIN = fileURLToPath(new URL('../bin/trustlab.js', import.meta.url));
const ENV = { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' };
const CASES = 'anchors::right-ca,anchors::wrong-ca,names::san-mismatch,validity::leaf-expired';
const DIALLED = 'broker.trustlab.test';

/** Runs `trustlab` and gives its exit code and stdout, whatever the code. */
async function trustlab(args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: ENV,
      timeout: 180_000,
    });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '' };
  }
}

describe('trustlab diff between two firmware personalities of the virtual nRF9160', () => {
  it('lists exactly their documented difference: SNI sent by 1.2.3, not by 1.2.0', async () => {
    // The personalities' data differ in the SNI rule alone; if that changes, so must this test.
    const { name: _a, description: _da, ...older } = PERSONALITIES['mfw-1.2.0'];
    const { name: _b, description: _db, ...newer } = PERSONALITIES['mfw-1.2.3'];
    expect({ ...older, sni: newer.sni }).toEqual(newer);
    expect([older.sni, newer.sni]).toEqual(['never', 'hostname']);

    const dir = mkdtempSync(join(tmpdir(), 'trustlab-pdiff-'));
    for (const p of ['mfw-1.2.0', 'mfw-1.2.3']) {
      const run = await trustlab([
        'run',
        '--driver',
        'nrf91-slm',
        '--personality',
        p,
        '--cases',
        CASES,
        '--out',
        join(dir, p),
        '--no-allure-report',
      ]);
      expect(run.code, `run ${p}`).toBe(0);
    }
    const { code, stdout } = await trustlab([
      'diff',
      join(dir, 'mfw-1.2.0'),
      join(dir, 'mfw-1.2.3'),
      '--json',
    ]);
    expect(code).toBe(1);
    const diff = JSON.parse(stdout) as RunDiff;
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    expect(diff.changed.map((c) => c.case).sort()).toEqual(CASES.split(',').sort());
    for (const c of diff.changed) {
      const fields = new Map(c.fields.map((f) => [f.field, f]));
      expect([...fields.keys()].sort(), c.case).toEqual(['server.extensions', 'server.sni']);
      expect(fields.get('server.sni')).toMatchObject({ before: '—', after: DIALLED });
      // The only extension gained is server_name (0).
      const before = JSON.parse(fields.get('server.extensions')?.before ?? '[]') as number[];
      const after = JSON.parse(fields.get('server.extensions')?.after ?? '[]') as number[];
      expect(after.filter((x) => !before.includes(x))).toEqual([0]);
      expect(before.filter((x) => !after.includes(x))).toEqual([]);
    }
    expect(diff.trustModel).toEqual([
      { id: 'sni.sent', field: 'Sends SNI (sni 1)?', before: 'no', after: 'yes' },
    ]);
  }, 300_000);
});

describe('trustlab diff between two runs of one firmware', () => {
  it('finds nothing: times, ports, nonces and wait lengths are not behaviour (rotation included)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-same-'));
    for (const n of ['a', 'b']) {
      const run = await trustlab([
        'run',
        '--cases',
        'anchors::wrong-ca,rotation::*',
        '--out',
        join(dir, n),
        '--no-allure-report',
      ]);
      expect(run.code, `run ${n}`).toBe(0);
    }
    const { code, stdout } = await trustlab(['diff', join(dir, 'a'), join(dir, 'b'), '--json']);
    const diff = JSON.parse(stdout) as RunDiff;
    expect(diff.changed).toEqual([]);
    expect(code).toBe(0);
  }, 240_000);
});
