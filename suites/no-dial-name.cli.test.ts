import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startHostileModule } from '../harness/virtual-modem/hostile-module.ts';
import { RESULTS_FILE, readRecords } from '../reports/results-log.ts';
import { NO_DIAL_NAME } from './plan-case.ts';
import { SANITY } from './scenarios.ts';

const BIN = fileURLToPath(new URL('../bin/trustlab.js', import.meta.url));

describe('a real device without --dial-name still runs', () => {
  it('the sanity case dials the IP, IP cases are judged, hostname cases are skipped with the reason and counted', async () => {
    // A module on tcp:// that resolves no lab name: exactly what a bench without DNS gives.
    const module = await startHostileModule({
      family: 'quectel',
      mode: {},
      seed: 0,
      network: { hosts: { localhost: '127.0.0.1' } },
    });
    const out = join(mkdtempSync(join(tmpdir(), 'trustlab-noname-')), 'run');
    try {
      const env = {
        ...process.env,
        TRUSTLAB_RUN: '',
        NO_COLOR: '1',
        TRUSTLAB_RESET_BUDGET: join(mkdtempSync(join(tmpdir(), 'trustlab-budget-')), 'b.json'),
      };
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          BIN,
          'run',
          '--device',
          module.address,
          '--cases',
          'anchors::*,names::ip-literal-*',
          '--out',
          out,
          '--no-allure-report',
        ],
        { env, timeout: 240_000 },
      );
      const records = readRecords(join(out, RESULTS_FILE));
      const sanity = records.find((r) => r.case === SANITY);
      expect(sanity?.outcome, sanity?.reason).toBe('accepted');
      expect(sanity?.params.dial).toBe('ip');
      const ran = records.filter((r) => r.outcome !== 'skipped');
      expect(ran.every((r) => r.params.dial === 'ip')).toBe(true);
      expect(ran.some((r) => r.case !== SANITY && r.outcome === 'accepted')).toBe(true);
      expect(ran.some((r) => r.outcome === 'rejected')).toBe(true);
      expect(records.filter((r) => r.outcome === 'blocked')).toEqual([]);
      const skipped = records.filter((r) => r.outcome === 'skipped');
      expect(skipped.length).toBeGreaterThan(0);
      for (const r of skipped) {
        expect(r.reason).toBe(NO_DIAL_NAME);
        expect(r.params.dial).toBe('hostname');
      }
      expect(stdout).toContain(`${skipped.length} hostname case(s) skipped`);
      expect(stdout).toContain('--dial-name NAME');
    } finally {
      await module.stop();
    }
  }, 300_000);
});
