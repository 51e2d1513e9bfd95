import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startSimServer } from './sim-command.ts';

const BIN = fileURLToPath(new URL('../../bin/trustlab.js', import.meta.url));
const ENV = { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' };

async function limbo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, 'limbo', ...args], {
      env: ENV,
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const dir = mkdtempSync(join(tmpdir(), 'trustlab-limbo-cli-'));
const malformed = join(dir, 'malformed.json');
writeFileSync(malformed, JSON.stringify({ version: 1, testcases: [{ id: 'x::y' }] }));
const routes = join(dir, 'routes.yaml');
writeFileSync(routes, 'names: [example.com]\naddresses: [not-an-ip]\n');

describe('trustlab limbo', () => {
  it.each([
    [
      'a malformed suite file',
      ['--limbo', malformed],
      /malformed\.json: not an x509-limbo suite: \/testcases\/0 \(case x::y\) must have required property/,
    ],
    [
      'a suite file that is not there',
      ['--limbo', join(dir, 'absent.json')],
      /cannot read the limbo suite \(ENOENT\)/,
    ],
    ['a --cases glob that names nothing', ['--cases', 'nosuch::*'], /"nosuch::\*" names no case/],
    [
      '--engine with a real device',
      ['--device', 'tcp://127.0.0.1:9', '--engine', 'openssl'],
      /--engine and --personality are for the virtual modem/,
    ],
    ['--routes with the virtual modem', ['--routes', routes], /--routes is for a real device/],
    [
      'a routes file with a name among the addresses',
      ['--device', 'tcp://127.0.0.1:9', '--routes', routes],
      /address "not-an-ip" is not an IP literal/,
    ],
  ])('refuses %s with exit 2 and one clear line, recording nothing', async (_what, args, words) => {
    const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const r = await limbo([...args, '--out', out]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(words);
    expect(existsSync(join(out, 'results.jsonl'))).toBe(false);
  });

  it('runs the cases asked for, prints a line per case and the totals, and exports the catalogue', async () => {
    const out = join(dir, 'run');
    const r = await limbo(['--cases', 'webpki::san::exact-dns-san,crl::crlnumber-missing', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[2\/2\] webpki::san::exact-dns-san: conformant — accepted/);
    expect(r.stdout).toMatch(/\[1\/2\] crl::crlnumber-missing: not-applicable — skipped: 1 CRL\(s\) given/);
    expect(r.stdout).toMatch(/limbo: 2 cases in .* 1 conformant, 0 lenient, 0 strict, 1 skipped/);
    const resumed = await limbo(['--resume', out]);
    expect(resumed.stdout).toMatch(/exact-dns-san: conformant \(recorded earlier\)/);
    const file = join(dir, 'exported.json');
    const e = await limbo(['export', '--out', file]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/exported \d+ limbo testcases .* \(valid against x509-limbo's schema\)/);
    const suite = JSON.parse(readFileSync(file, 'utf8'));
    expect(suite.testcases.every((t: { id: string }) => t.id.startsWith('trustlab::'))).toBe(true);
  }, 240_000);

  it('on a device outside the process, runs only what the inventory routes and says which route the rest lack', async () => {
    // A virtual module over tcp:// stands for a bench modem: the harness sees only its AT port.
    const sim = await startSimServer({
      listen: 'tcp://127.0.0.1:0',
      family: 'quectel',
      host: ['example.com=127.0.0.1'],
    });
    try {
      const inventory = join(dir, 'lab.yaml');
      writeFileSync(
        inventory,
        [
          'devices:',
          '  - name: bench-a',
          `    port: tcp://127.0.0.1:${sim.port}`,
          '    driver: quectel',
          '    routes:',
          '      names: [example.com]',
          '',
        ].join('\n'),
      );
      const out = join(dir, 'bench');
      const r = await limbo([
        '--inventory',
        inventory,
        '--device-name',
        'bench-a',
        '--cases',
        'webpki::san::exact-dns-san,webpki::san::exact-localhost-ip-san',
        '--out',
        out,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/exact-dns-san: conformant — accepted/);
      expect(r.stdout).toMatch(
        /exact-localhost-ip-san: not-applicable — skipped: the lab declares no route from the address 127\.0\.0\.1 to its broker/,
      );
      const wrongName = await limbo([
        '--inventory',
        inventory,
        '--device-name',
        'bench-b',
        '--out',
        join(dir, 'x'),
      ]);
      expect(wrongName.code).toBe(2);
      expect(wrongName.stderr).toMatch(/--device-name bench-b: not in .* \(it has bench-a\)/);
    } finally {
      await sim.stop();
    }
  }, 120_000);
});
