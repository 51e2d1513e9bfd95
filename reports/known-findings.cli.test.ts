import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { labGates } from '../app/lab/lab-gate.ts';
import type { RunDiff } from './diff.ts';

const BIN = fileURLToPath(new URL('../bin/trustlab.js', import.meta.url));
const ENV = { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' };
/**
 * Findings under rfc5280 on the strict personality (root without keyUsage, reverse order), cases
 * the mbedtls-2.28 personality answers differently (IP literals, SNI off), and conformant ones.
 */
const CASES = [
  'anchors::right-ca',
  'anchors::wrong-ca',
  'anchors::root-without-key-usage',
  'chains::reverse-order',
  'anchors::right-ca[dial=ip]',
  'names::ip-literal-ip-san',
  'names::ip-literal-dns-san',
  'names::san-mismatch[sni=0]',
].join(',');

async function trustlab(args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: ENV,
      timeout: 240_000,
    });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '' };
  }
}

/** Case ids by JUnit outcome. */
function junitOutcomes(runDir: string): { failed: string[]; skipped: string[]; known: string[] } {
  const xml = readFileSync(join(runDir, 'junit.xml'), 'utf8');
  const cases = [...xml.matchAll(/<testcase [^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/testcase>/g)];
  const name = (m: RegExpMatchArray) => (m[1] ?? '').replaceAll('&quot;', '"');
  return {
    failed: cases
      .filter((m) => m[2]?.includes('<failure'))
      .map(name)
      .sort(),
    skipped: cases
      .filter((m) => m[2]?.includes('<skipped'))
      .map(name)
      .sort(),
    known: cases
      .filter((m) => m[2]?.includes('name="known-finding"'))
      .map(name)
      .sort(),
  };
}

function allureStatuses(runDir: string): Map<string, string> {
  const dir = join(runDir, 'allure-results');
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('-result.json'))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { name: string; status: string })
      .map((r) => [r.name, r.status]),
  );
}

describe('dashboards: findings fail, known findings are known, only what changed fails', () => {
  it('Allure and JUnit mark findings failed; a baseline of the same firmware leaves 0 failures; another personality fails exactly the changed cases', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-known-'));
    const first = join(dir, 'first');
    const run1 = await trustlab(['run', '--cases', CASES, '--out', first]);
    expect(run1.code, run1.stdout).toBe(0);
    const findings = ['anchors::root-without-key-usage', 'chains::reverse-order'];
    expect(junitOutcomes(first).failed).toEqual(findings);
    const statuses = allureStatuses(first);
    for (const [name, status] of statuses)
      expect(status, name).toBe(findings.includes(name) ? 'failed' : 'passed');
    // Allure's own summary of the generated report agrees.
    const summary = JSON.parse(readFileSync(join(first, 'allure-report', 'summary.json'), 'utf8')) as {
      stats: Record<string, number>;
    };
    expect(summary.stats).toMatchObject({ failed: 2, passed: statuses.size - 2 });

    const baselines = join(dir, 'baselines');
    expect((await trustlab(['baseline', 'update', first, '--dir', baselines])).code).toBe(0);
    const [model] = readdirSync(baselines);
    const [firmware] = readdirSync(join(baselines, model ?? ''));
    const baseline = join(baselines, model ?? '', firmware ?? '');

    const same = join(dir, 'same');
    const run2 = await trustlab([
      'run',
      '--cases',
      CASES,
      '--out',
      same,
      '--baseline',
      baseline,
      '--fail-on',
      'new-findings',
      '--no-allure-report',
    ]);
    expect(run2.code, run2.stdout).toBe(0);
    expect(junitOutcomes(same)).toEqual({ failed: [], skipped: findings, known: findings });
    expect(run2.stdout).toContain('0 new or changed, 2 known');
    // --fail-on findings still counts the known ones.
    const strictGate = await trustlab([
      'run',
      '--cases',
      CASES,
      '--out',
      join(dir, 'same-findings'),
      '--baseline',
      baseline,
      '--fail-on',
      'findings',
      '--no-allure-report',
    ]);
    expect(strictGate.code).toBe(1);

    const other = join(dir, 'other');
    const run3 = await trustlab([
      'run',
      '--cases',
      CASES,
      '--personality',
      'mbedtls-2.28',
      '--out',
      other,
      '--baseline',
      baseline,
      '--fail-on',
      'new-findings',
      '--no-allure-report',
    ]);
    expect(run3.code, run3.stdout).toBe(1);
    const diff = JSON.parse((await trustlab(['diff', baseline, other, '--json'])).stdout) as RunDiff;
    const changed = diff.changed.map((c) => c.case).sort();
    expect(changed.length).toBeGreaterThan(0);
    expect(junitOutcomes(other).failed).toEqual(changed);
    expect(junitOutcomes(other).known).toEqual(findings);

    // The lab's per-device gate reads the same folders against the stored baseline.
    const gates = labGates(
      [
        { name: 'same', runDir: same },
        { name: 'other', runDir: other },
        { name: 'never-ran', runDir: join(dir, 'nothing') },
      ],
      { failOn: 'new-findings', profile: 'rfc5280', baselinesRoot: baselines },
    );
    expect(gates.map((g) => [g.device, g.gate?.failed ?? null])).toEqual([
      ['same', false],
      ['other', true],
      ['never-ran', null],
    ]);
    expect(gates[1]?.gate?.newFindings).toBe(changed.length);
  }, 600_000);
});
