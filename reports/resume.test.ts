import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadBehaviour } from './behaviour.ts';
import { diffBehaviour, hasChanges } from './diff.ts';
import { readRecords } from './results-log.ts';
import { readRunManifest } from './run-manifest.ts';

const BIN = fileURLToPath(new URL('../bin/trustlab.js', import.meta.url));
const ENV = { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' };
/** The two foundation cases: the default matrix is too long to kill and resume inside a test. */
const FOUNDATION = 'anchors::right-ca,anchors::wrong-ca';
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [BIN, 'run', '--no-allure-report', ...args], {
    env: ENV,
    timeout: 120_000,
  });

const completeLines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(0, -1).filter(Boolean).length : 0;

/** What must match between two runs: the report with times, nonces and fingerprints blanked. */
const stable = (report: string) =>
  report
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')
    .replace(/nonce=[0-9a-f]+/g, 'nonce=<n>')
    .replace(/(?:[0-9A-F]{2}:){31}[0-9A-F]{2}/g, '<sha256>');

async function waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function killGroup(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The whole process group, as a CI cancel or a power loss would: the CLI and its vitest worker.
  process.kill(-(child.pid as number), 'SIGKILL');
  return exited;
}

describe('a run killed with SIGKILL mid-way and resumed', () => {
  it('completes only what is missing and reports the same as an uninterrupted run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'trustlab-resume-'));
    const interrupted = join(root, 'interrupted');
    const results = join(interrupted, 'results.jsonl');

    // --settle holds each case back long enough to kill between the first and the second.
    const child = spawn(
      process.execPath,
      [BIN, 'run', '--out', interrupted, '--cases', FOUNDATION, '--settle', '3000', '--no-allure-report'],
      {
        env: ENV,
        detached: true,
        stdio: 'ignore',
      },
    );
    try {
      await waitFor(() => completeLines(results) >= 1, 60_000, 'the first recorded case');
    } finally {
      await killGroup(child);
    }
    expect(completeLines(results)).toBe(1);
    const first = readRecords(results)[0]?.case;
    expect(readRunManifest(interrupted)?.status).toBe('running');

    // Without --resume an existing run is refused rather than appended to.
    await expect(run(['--out', interrupted])).rejects.toMatchObject({ code: 2 });

    const resumed = await run(['--resume', interrupted, '--settle', '0']);
    expect(resumed.stdout.trimEnd().split('\n').at(-1)).toBe(`  report: ${join(interrupted, 'report.md')}`);
    const records = readRecords(results);
    expect(records.map((r) => r.case)).toEqual(['anchors::right-ca', 'anchors::wrong-ca']);
    expect(records[0]?.case).toBe(first); // the recorded case was not run again
    const manifest = readRunManifest(interrupted);
    expect(manifest?.status).toBe('complete');
    expect(manifest?.sessions?.map((s) => s.executed ?? null)).toEqual([null, 1]);
    expect(manifest?.identity?.firmware).toBeTruthy();

    const uninterrupted = join(root, 'uninterrupted');
    await run(['--out', uninterrupted, '--cases', FOUNDATION]);
    const report = (dir: string) => stable(readFileSync(join(dir, 'report.md'), 'utf8'));
    expect(report(interrupted)).toBe(report(uninterrupted));
    const diff = diffBehaviour(loadBehaviour(uninterrupted), loadBehaviour(interrupted));
    expect(hasChanges(diff), JSON.stringify(diff.changed)).toBe(false);
    const matrix = (dir: string) =>
      /## Verdict matrix[\s\S]*?## Cases/.exec(readFileSync(join(dir, 'evidence.md'), 'utf8'))?.[0];
    expect(matrix(interrupted)).toBeDefined();
    expect(matrix(interrupted)).toBe(matrix(uninterrupted));
  }, 240_000);
});
