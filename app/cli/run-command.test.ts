import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { readRecords } from '../../reports/results-log.ts';
import { type RunOptions, runCommand } from './run-command.ts';

const BIN = fileURLToPath(new URL('../../bin/trustlab.js', import.meta.url));

describe('trustlab run (the main job) against the virtual modem', () => {
  it('records both foundation cases, writes the report and ends with the summary', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'trustlab-cli-')), 'run');
    // The foundation pair only: the whole default matrix through the CLI is suites/default-matrix.cli.test.ts.
    const cases = 'anchors::right-ca,anchors::wrong-ca';
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BIN, 'run', '--out', out, '--cases', cases],
      {
        env: { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' },
        timeout: 120_000,
      },
    );
    const records = readRecords(join(out, 'results.jsonl'));
    const byCase = new Map(records.map((r) => [r.case, r]));
    expect(byCase.get('anchors::right-ca')?.outcome).toBe('accepted');
    expect(byCase.get('anchors::right-ca')?.server.publishes).toHaveLength(1);
    expect(byCase.get('anchors::wrong-ca')?.outcome).toBe('rejected');
    expect(byCase.get('anchors::wrong-ca')?.server.mqttConnect).toBeNull();
    // The record says which TLS stack answered, and the server's view agrees with it: a Node
    // client closes without an alert, mbedTLS sends unknown_ca.
    const wrong = byCase.get('anchors::wrong-ca');
    const engine = wrong?.virtualTls?.engine;
    expect(['mbedtls', 'node']).toContain(engine);
    if (engine === 'mbedtls') expect(wrong?.server.clientAlert?.number).toBe(48);
    else expect(wrong?.server.clientAlert).toBeNull();
    for (const r of records) {
      expect(r.verdicts.rfc5280).toBe('conformant');
      expect(existsSync(join(out, r.transcriptFile ?? 'missing'))).toBe(true);
    }
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('| anchors::wrong-ca | rejected |');
    expect(report).toContain(`TLS engine of the virtual modem: ${wrong?.virtualTls?.engineNote}`);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe(`  report: ${join(out, 'report.md')}`);
  }, 150_000);
});

describe('trustlab run ownership flags', () => {
  const base: RunOptions = {
    driver: 'quectel',
    personality: 'strict',
    dialHost: '127.0.0.1',
    listenHost: '127.0.0.1',
  };
  it.each<[Partial<RunOptions>, string]>([
    [{ sslContext: '7' }, 'device ownership: sslContext: a whole number from 0 to 5'],
    [{ filePrefix: 'a/b' }, 'device ownership: filePrefix: 3 to 32 letters'],
    [{ mqttClient: '1.5' }, '--mqtt-client expects a whole number'],
    [
      { secTags: '1+1' },
      '--sec-tags is not for --driver quectel; it takes --file-prefix, --ssl-context, --mqtt-client',
    ],
    [
      { driver: 'nrf91-slm', filePrefix: 'lab_' },
      '--file-prefix is not for --driver nrf91-slm; it takes --sec-tags',
    ],
    [{ driver: 'nrf91-slm', secTags: '12' }, '--sec-tags expects <first>+<count>'],
    [{ driver: 'nrf91-slm', secTags: '2147483647+2' }, 'secTags: the range ends past 2147483647'],
  ])('refuses %o with a usage error, before creating anything', async (flags, message) => {
    const out = join(mkdtempSync(join(tmpdir(), 'trustlab-cli-')), 'run');
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    try {
      expect(await runCommand({ ...base, ...flags, out })).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join('\n')).toContain(message);
    expect(existsSync(out)).toBe(false);
  });
});
