import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readTrustModel } from '../reports/evidence/trust-model.ts';
import { readRecords } from '../reports/results-log.ts';
import { readRunManifest } from '../reports/run-manifest.ts';
import { defaultMatrix } from './matrix.ts';
import { ROTATION_SCENARIOS } from './rotation.ts';
import { SESSION_SCENARIOS } from './sessions.ts';

const BIN = fileURLToPath(new URL('../bin/trustlab.js', import.meta.url));
/** Knobs with no documented meaning keep the profile's rule, so accepting under them is lenient by design. */
const UNDOCUMENTED_KNOB = /\[(ignoreinvalidcertsign|ignoremulticertchainverify)=1\]$/;

/**
 * `trustlab run` on the whole default matrix, as `npm start` runs it (about a minute on the virtual
 * modem, within CI's budget). The stock-mbedTLS personality must conform to the mbedtls-2.28
 * profile on every case: a wrong expectation or a wrong engine shows up here.
 */
describe('trustlab run on the whole default matrix (virtual modem, stock mbedTLS 2.28)', () => {
  it('records every planned case, conforms to the mbedtls-2.28 profile and writes the trust model', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'trustlab-default-')), 'run');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BIN, 'run', '--out', out, '--personality', 'mbedtls-2.28', '--no-allure-report'],
      { env: { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' }, timeout: 400_000, maxBuffer: 64 << 20 },
    );
    expect(stdout.trimEnd().split('\n').at(-1)).toBe(`  report: ${join(out, 'report.md')}`);
    const planned = [
      ...defaultMatrix().map((c) => c.id),
      ...ROTATION_SCENARIOS.map((s) => s.id),
      ...SESSION_SCENARIOS.map((s) => s.id),
    ];
    const manifest = readRunManifest(out);
    expect(manifest?.plannedCases).toEqual(planned);
    expect(manifest?.status).toBe('complete');
    const records = readRecords(join(out, 'results.jsonl'));
    expect(records.map((r) => r.case).sort()).toEqual([...planned].sort());
    for (const r of records) {
      // mbedTLS 2.28 offers TLS 1.2 only, and no TLS server signs with a leaf whose KeyUsage lacks
      // digitalSignature: that case is the lab's to serve, not the device's to judge.
      if (r.case === 'extensions::leaf-ku-without-digital-signature' && r.outcome === 'skipped') {
        expect(r.server.handshake, r.reason).toBe('server-error');
        expect(r.reason).toMatch(/the lab's TLS server ended the handshake/);
        expect(Object.values(r.verdicts)).toEqual(['not-applicable', 'not-applicable', 'not-applicable']);
        continue;
      }
      // The downgrade sentinel binds only a client that offered TLS 1.3, which mbedTLS 2.28 never does.
      if (r.case === 'tls::server-hello-downgrade-sentinel') {
        expect(r.outcome, r.reason).toBe('skipped');
        expect(r.reason).toMatch(/not TLS 1\.3/);
        continue;
      }
      expect(['accepted', 'rejected'], `${r.case}: ${r.reason}`).toContain(r.outcome);
      expect(r.outcome, `${r.case}: ${r.reason}`).not.toBe('skipped');
      if (r.case.startsWith('client::')) {
        // Mutual TLS for real: the broker recorded the certificate the virtual modem presented at
        // seclevel 2 — verified against the right client CA, refused with the verifier's reason otherwise.
        const seen = (
          r.server as { clientCertificate?: { subject: string; verified: boolean | null } | null }
        ).clientCertificate;
        expect(seen?.subject, `${r.case}: ${r.reason}`).toContain(`OU=${r.case}`);
        expect(seen?.verified, `${r.case}: ${r.reason}`).toBe(r.case === 'client::right-ca');
        expect(r.reason).not.toContain('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
      }
      const allowed = UNDOCUMENTED_KNOB.test(r.case) ? ['conformant', 'lenient'] : ['conformant'];
      expect(allowed, `${r.case}: ${r.outcome}, ${r.reason}`).toContain(r.verdicts['mbedtls-2.28']);
      expect(r.controls?.length, `${r.case} ran its reference controls`).toBeGreaterThan(0);
    }
    const model = new Map((readTrustModel(out) ?? []).map((a) => [a.question, a.answer]));
    expect(model.get('Trusts the uploaded CA?')).toBe('yes');
    expect(model.get('Accepts a root without BasicConstraints?')).toBe('no');
    expect(model.get('Accepts a v1 root?')).toBe('yes');
    expect(model.get('Checks the hostname with SNI off?')).toBe('no');
    expect(model.get('Speaks TLS 1.3 (connects to a TLS 1.3-only broker)?')).toBe('no');
    // Observed on the virtual EC200U: QSSLCFG is volatile, UFS is not, a rebind needs no reboot.
    expect(model.get('Presents a client certificate at seclevel 2?')).toBe('yes');
    expect(model.get('A rebound CA takes effect without a reboot?')).toBe('yes');
    expect(model.get('SSL context settings survive a reboot (AT+CFUN=1,1)?')).toBe('no');
    expect(model.get('Uploaded CA files survive a reboot?')).toBe('yes');
    expect(existsSync(join(out, 'evidence.md'))).toBe(true);
    expect(readFileSync(join(out, 'evidence.md'), 'utf8')).toContain(
      'Accepts a root without BasicConstraints?',
    );
    // The product-spec card: every answer of the model as a statement, and (with Chromium) one printed page.
    const card = readFileSync(join(out, 'card.html'), 'utf8');
    for (const a of readTrustModel(out) ?? [])
      expect(card).toContain(a.question.replace(/\?$/, '').replaceAll('"', '&quot;'));
    if (existsSync('/usr/bin/chromium')) {
      const pdf = readFileSync(join(out, 'card.pdf')).toString('latin1');
      expect(pdf.startsWith('%PDF-')).toBe(true);
      expect(pdf.match(/\/Type\s*\/Page(?!s)/g)?.length, 'the card fits one printed page').toBe(1);
    }
  }, 420_000);
});
