import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/trustlab.js', import.meta.url));
const ENV = { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' };

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, 'run', ...args], {
      env: ENV,
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const dir = mkdtempSync(join(tmpdir(), 'trustlab-preflight-'));
const aFile = join(dir, 'a-file');
writeFileSync(aFile, 'not a folder');
const badResume = join(dir, 'bad-resume');
mkdirSync(badResume);
writeFileSync(join(badResume, 'run.json'), '{ torn');

/** Each bad input, the words its one-line message must have, and an --out that must not be left behind. */
const BAD_INPUTS: readonly [string, string[], RegExp][] = [
  ['a missing device path', ['--device', '/dev/ttyTRUSTLAB-NONE'], /no such serial device/],
  ['a port with nothing listening', ['--device', 'tcp://127.0.0.1:9'], /nothing listens there/],
  ['a malformed tcp:// address', ['--device', 'tcp://127.0.0.1'], /tcp:\/\/host:port/],
  ['a --cases glob that matches nothing', ['--cases', 'nosuch::*'], /names no case/],
  ['--cases with no case in it', ['--cases', ',,'], /names no case/],
  ['--out below a regular file', ['--out', join(aFile, 'run')], /cannot create the folder/],
  ['--shard past its count', ['--shard', '3/2'], /--shard expects i\/n/],
  ['--resume of a folder without a run', ['--resume', join(dir, 'nothing-here')], /no run\.json/],
  ['--resume of a malformed run.json', ['--resume', badResume], /run.json: not JSON/],
];

describe('bad input to trustlab run fails fast, in plain words', () => {
  it.each(BAD_INPUTS)('%s: exit 2, one line, no stack trace, no run folder', async (_what, args, words) => {
    const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const withOut = args.includes('--out') || args.includes('--resume') ? args : [...args, '--out', out];
    const started = Date.now();
    const r = await run(withOut);
    const elapsed = Date.now() - started;
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^trustlab: /);
    expect(lines[0]).toMatch(words);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stdout).toBe('');
    // Nothing left behind that looks like a run (no run.json "running").
    expect(existsSync(join(out, 'run.json'))).toBe(false);
    // Checked before the test runner starts: seconds, not the ~7 s a vitest start took.
    expect(elapsed).toBeLessThan(10_000);
  });
});
