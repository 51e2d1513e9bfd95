import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TLS_ENGINES } from '../../harness/virtual-modem/tls/engines.ts';
import type { TrustModelAnswer } from '../../reports/evidence/trust-model.ts';
import { RESULTS_FILE, readRecords } from '../../reports/results-log.ts';
import { HEALTH_CHECKS_FILE } from '../../suites/health-check.ts';
import { startSimServer } from './sim-command.ts';

const BIN = fileURLToPath(new URL('../../bin/trustlab.js', import.meta.url));
const ENV = { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' };
const mbedtls = await TLS_ENGINES.mbedtls.available();

describe('a module that restarts on a chain over its limit (an nRF9160 crash, modelled) behind tcp://', () => {
  it.skipIf(!mbedtls.ok)(
    `records the restart on the rung, health-checks the module, runs the rest, and names the rung that crashed it${mbedtls.ok ? '' : ` (skipped: ${mbedtls.reason})`}`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'trustlab-crash-'));
      const config = join(dir, 'sim.json');
      writeFileSync(config, JSON.stringify({ receiveLimit: { serverChainBytes: 4096, past: 'reboot' } }));
      const sim = await startSimServer({
        listen: 'tcp://127.0.0.1:0',
        family: 'nrf91-slm',
        host: ['broker.trustlab.test=127.0.0.1'],
        config,
      });
      const out = join(dir, 'run');
      try {
        await promisify(execFile)(
          process.execPath,
          [
            BIN,
            'run',
            '--device',
            `tcp://127.0.0.1:${sim.port}`,
            '--driver',
            'nrf91-slm',
            '--dial-name',
            'broker.trustlab.test',
            '--full',
            '--baseline',
            'none',
            '--no-allure-report',
            '--cases',
            'sizes::served-chain-6k,sizes::served-chain-2k,sizes::served-chain-4k',
            '--out',
            out,
          ],
          { env: ENV, timeout: 180_000 },
        ).catch((e: { code?: number }) => {
          if (e.code !== 1) throw e;
        });
      } finally {
        await sim.stop();
      }
      const records = readRecords(join(out, RESULTS_FILE));
      const byCase = (id: string) => records.find((r) => r.case === id);
      // The crash is the rung's record: no verdict from a faulty device, the restart named.
      expect(byCase('sizes::served-chain-6k')).toMatchObject({ outcome: 'inconclusive' });
      expect(byCase('sizes::served-chain-6k')?.reason).toMatch(/module restarted during the case/);
      // The module was checked before the next case and found answering as itself; the rest ran.
      const checks = readFileSync(join(out, HEALTH_CHECKS_FILE), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(checks).toEqual([expect.objectContaining({ after: 'sizes::served-chain-6k', healthy: true })]);
      expect(byCase('sizes::served-chain-2k')?.outcome).toBe('accepted');
      expect(byCase('sizes::served-chain-4k')?.outcome).toBe('accepted');
      const model = JSON.parse(readFileSync(join(out, 'trust-model.json'), 'utf8')) as TrustModelAnswer[];
      const ladder = model.find((a) => a.id === 'size.served-chain.16k-accepted');
      expect(ladder?.answer).toBe('no');
      expect(ladder?.detail).toMatch(
        /largest accepted: 4 kB .*first refused: 6 kB \(sizes::served-chain-6k: the device failed: device fault during the case: module restarted/,
      );
    },
    200_000,
  );
});
