import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startHostileModule } from '../harness/virtual-modem/hostile-module.ts';
import { readTrustModel } from '../reports/evidence/trust-model.ts';
import { RESULTS_FILE, readRecords } from '../reports/results-log.ts';
import { dialledNames } from './plan-case.ts';

const BIN = fileURLToPath(new URL('../bin/trustlab.js', import.meta.url));
const NAME = 'broker.trustlab.test';

/** Questions about switches an nRF91 SLM does not have: each must say so, not answer for it. */
const NO_SUCH_SWITCH = [
  'Does seclevel 0 switch verification off?',
  'Does ignorelocaltime 1 switch the validity checks off?',
  'Checks the hostname with SNI off?',
  'Sends SNI with sni 0?',
  'Does ignoreinvalidcertsign 1 change the signature checks?',
  'Does ignoremulticertchainverify 1 stop the checks above the leaf?',
  'Offers only the cipher suite it is configured for (ciphersuite)?',
];

describe('an nRF91 SLM served over tcp:// (not the in-process modem) on the whole default matrix', () => {
  it('skips what the dialect cannot express before sending anything, and answers those questions not-applicable', async () => {
    const module = await startHostileModule({
      family: 'nrf91-slm',
      mode: {},
      seed: 0,
      network: {
        hosts: {
          localhost: '127.0.0.1',
          ...Object.fromEntries(dialledNames(NAME).map((n) => [n, '127.0.0.1'])),
        },
      },
    });
    const out = join(mkdtempSync(join(tmpdir(), 'trustlab-nrf-na-')), 'run');
    try {
      const env = { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' };
      await promisify(execFile)(
        process.execPath,
        [
          BIN,
          'run',
          '--driver',
          'nrf91-slm',
          '--device',
          module.address,
          '--dial-name',
          NAME,
          '--out',
          out,
          '--no-allure-report',
          '--baseline',
          'none',
        ],
        { env, timeout: 400_000, maxBuffer: 64 << 20 },
      ).catch((err: { code?: number }) => {
        // Findings end the run with 1; anything else is a harness failure.
        if (err.code !== 1) throw err;
      });
      const records = readRecords(join(out, RESULTS_FILE));
      expect(records.length).toBeGreaterThan(90);
      expect(
        records.filter((r) => r.outcome === 'inconclusive').map((r) => `${r.case}: ${r.reason}`),
      ).toEqual([]);
      // The one case the lab's own server cannot present to a TLS 1.2-only client (see
      // default-matrix.cli.test.ts) ran and is skipped for that; it is not a dialect's gap.
      const labCannotServe = (r: (typeof records)[number]) =>
        (r.case === 'extensions::leaf-ku-without-digital-signature' &&
          r.reason.startsWith("the lab's TLS server ended the handshake") &&
          r.server.handshake === 'server-error') ||
        // The downgrade sentinel asks nothing of a TLS 1.2-only client: its own ClientHello said so.
        (r.case === 'tls::server-hello-downgrade-sentinel' && /not TLS 1\.3/.test(r.reason));
      const skipped = records.filter((r) => r.outcome === 'skipped' && !labCannotServe(r));
      expect(skipped.length).toBeGreaterThan(0);
      for (const r of skipped) {
        expect(r.reason, r.case).toMatch(/^not expressible on nrf91-slm: /);
        expect(Object.values(r.verdicts), r.case).toEqual([
          'not-applicable',
          'not-applicable',
          'not-applicable',
        ]);
        // Nothing was sent for it: no transcript, no codes, not retried.
        expect(r.transcriptFile, r.case).toBeNull();
        expect(r.codes, r.case).toEqual([]);
      }
      const reasons = new Set(skipped.map((r) => r.reason));
      expect(reasons).toContain('not expressible on nrf91-slm: no switch for the device clock');
      expect(reasons).toContain('not expressible on nrf91-slm: no switch for SNI (it always sends it)');
      // Every case the dialect can express ran and was judged.
      expect(records.filter((r) => r.outcome === 'accepted').length).toBeGreaterThan(20);
      expect(records.filter((r) => r.outcome === 'rejected').length).toBeGreaterThan(20);

      const model = new Map((readTrustModel(out) ?? []).map((a) => [a.question, a]));
      for (const q of NO_SUCH_SWITCH) {
        expect(model.get(q)?.answer, q).toBe('not-applicable');
        expect(model.get(q)?.detail, q).toMatch(/not expressible on nrf91-slm: /);
      }
      // Questions it can be asked are still answered from observations.
      expect(model.get('Trusts the uploaded CA?')?.answer).toBe('yes');
      expect(model.get('Checks the hostname with SNI on?')?.answer).toBe('yes');
    } finally {
      await module.stop();
    }
  }, 420_000);
});
