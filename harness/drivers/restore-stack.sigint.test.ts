import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./quectel/fixtures/sigint-during-case.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

describe('SIGINT during a case', () => {
  it('puts back every setting and deletes the uploaded file before exiting with 130', async () => {
    const child = spawn(process.execPath, [TSX, FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fixture never reached QMTOPEN: ${out} ${err}`)),
        20_000,
      );
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('waiting\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGINT');
    const code = await exited;
    const report = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { files: string[]; sent: string[] };
    expect(code, err).toBe(130);
    expect(report.files).toEqual(['customer_root.pem']);
    expect(report.sent).toContain('AT+QMTCLOSE=1');
    expect(report.sent).toContain('AT+QMTCFG="ssl",1,0,0');
    expect(report.sent).toContain('AT+QSSLCFG="seclevel",1,0');
    expect(report.sent).toContain('AT+QSSLCFG="cacert",1,""');
    expect(report.sent.at(-1)).toBe('AT+QFDEL="UFS:trustlab_ca.pem"');
    expect(err).toContain('SIGINT: restoring device settings');
  }, 30_000);
});
