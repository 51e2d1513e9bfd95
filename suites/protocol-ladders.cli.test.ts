import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TLS_ENGINE_IDS, type TlsEngineId } from '../harness/virtual-modem/tls/engine.ts';
import { TLS_ENGINES } from '../harness/virtual-modem/tls/engines.ts';
import { QUESTIONS } from '../reports/evidence/questions.ts';
import type { TrustModelAnswer } from '../reports/evidence/trust-model.ts';
import { RESULTS_FILE, readRecords } from '../reports/results-log.ts';

const BIN = fileURLToPath(new URL('../bin/trustlab.js', import.meta.url));
const ENV = { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' };

/** One rung or twin of each new family, by exact id (no setting variations). */
const CASES = [
  'sizes::served-chain-2k',
  'sizes::served-chain-4k',
  'sizes::served-chain-6k',
  'sizes::served-chain-8k',
  'sizes::served-chain-12k',
  'sizes::served-chain-16k',
  'keys::leaf-ed25519',
  'keys::leaf-p521',
  'tls::handshake-fragmented-512',
  'tls::handshake-fragmented-1024',
  'tls::handshake-fragmented-4096',
  'chains::cross-signed-root-old-anchor',
  'chains::sha1-cert-above-anchor',
  'chains::expired-cross-sign-beside-valid',
  'tls::server-tls10-only',
  'tls::server-tls11-only',
  'uploads::pem-crlf',
  'uploads::pem-bom',
  'uploads::pem-trailing-bytes',
  'uploads::der',
  'tls::server-tls12-only',
  'tls::server-static-rsa-tls12',
  'tls::server-hello-unoffered-suite',
  'tls::server-hello-unrequested-alpn',
  'tls::server-hello-downgrade-sentinel',
  'sessions::resume-same-chain',
  'sessions::resume-after-chain-change',
];

async function runOn(driver: string, engine: TlsEngineId) {
  const out = join(mkdtempSync(join(tmpdir(), `trustlab-ladders-${driver}-${engine}-`)), 'run');
  await promisify(execFile)(
    process.execPath,
    [
      BIN,
      'run',
      '--driver',
      driver,
      '--engine',
      engine,
      '--full',
      '--cases',
      CASES.join(','),
      '--out',
      out,
      '--no-allure-report',
    ],
    { env: ENV, timeout: 300_000, maxBuffer: 64 << 20 },
  ).catch((e: { code?: number }) => {
    if (e.code !== 1) throw e; // exit 1 = findings, still an answer
  });
  const model = JSON.parse(readFileSync(join(out, 'trust-model.json'), 'utf8')) as TrustModelAnswer[];
  const answer = (id: string) => model.find((a) => a.id === id) as TrustModelAnswer;
  runs.set(`${driver}/${engine}`, out);
  return { answer, records: readRecords(join(out, RESULTS_FILE)) };
}

/** Run folders by driver/engine, for the diff between engines at the end. */
const runs = new Map<string, string>();

const availability = Object.fromEntries(
  await Promise.all(TLS_ENGINE_IDS.map(async (id) => [id, await TLS_ENGINES[id].available()] as const)),
);

describe.each(TLS_ENGINE_IDS)('the protocol ladders on the virtual Quectel with the %s engine', (engine) => {
  const a = availability[engine];
  it.skipIf(!a?.ok)(
    `answers from real handshakes${a && !a.ok ? ` (skipped: ${a.reason})` : ''}`,
    async () => {
      const { answer, records } = await runOn('quectel', engine);
      // Every case ran on the asked-for engine and the server saw the device's ClientHello.
      for (const r of records.filter((x) => CASES.includes(x.case))) {
        expect(r.virtualTls?.engine, r.case).toBe(engine);
        // A device that refused its anchors file never dials (OpenSSL's s_client and a BOM): no connection at all.
        if (r.server.connections > 0) expect(r.server.clientHello, r.case).not.toBeNull();
        else expect(r.reason, r.case).toMatch(/never dialled/);
      }
      expect(answer('chains.field-paths.followed').answer).toBe('yes');
      // Set to "all versions" (sslversion 4), every stack here takes a server that answers TLS 1.1;
      // the reference clients confirmed it is a downgrade (Node and OpenSSL refuse it).
      expect(answer('tls.old-version-server.accepted').answer).toBe('yes');
      // Every stack reads CRLF and trailing text; OpenSSL's and Node's PEM readers stop at a BOM.
      expect(answer('uploads.pem-crlf.verifies').answer).toBe('yes');
      // The virtual modem's file loader reads DER as mbedTLS's does, whichever stack then handshakes.
      expect(answer('uploads.der.verifies').answer).toBe('yes');
      const der = records.find((r) => r.case === 'uploads::der');
      expect(der?.outcome, der?.reason).toBe('accepted');
      const bomRefused = engine === 'openssl' || engine === 'node';
      expect(answer('uploads.pem-variants.verify')).toMatchObject({ answer: bomRefused ? 'no' : 'yes' });
      if (bomRefused)
        expect(answer('uploads.pem-variants.verify').detail).toBe('uploads::pem-bom refused, twin accepted');
      // A changed ServerHello: every stack stops at a suite or an ALPN protocol it never offered; the
      // downgrade sentinel binds only a client that offered TLS 1.3, which mbedTLS 2.28 never does.
      const serverHello = answer('tls.server-hello.checked');
      expect(serverHello.answer).toBe('yes');
      if (engine === 'mbedtls') expect(serverHello.detail).toMatch(/offered TLSv1\.2, not TLS 1\.3/);
      else
        expect(serverHello.detail).toMatch(
          /downgrade-sentinel: the device stopped at the changed ServerHello/,
        );
      // The virtual modem keeps its session; gnutls-cli cannot keep one from one run to the next.
      const keeps = engine !== 'gnutls';
      expect(answer('tls.session.resumed').answer).toBe(keeps ? 'yes' : 'no');
      expect(answer('tls.session.resumed-after-chain-change').answer).toBe(keeps ? 'yes' : 'no');
      if (engine === 'mbedtls') {
        // TLS 1.2 on the wire: the server's side shows what each rung served and how it was cut.
        const wire = (id: string) => records.find((r) => r.case === id)?.server.wire;
        expect(wire('sizes::served-chain-16k')).toMatchObject({ servedChainBytes: 16384 });
        expect(wire('sizes::served-chain-16k')?.certificateRecords).toBeGreaterThan(1);
        expect(wire('sizes::served-chain-12k')).toMatchObject({
          servedChainBytes: 12288,
          certificateRecords: 1,
        });
        expect(wire('tls::handshake-fragmented-512')?.largestServerRecord).toBeLessThanOrEqual(512);
        expect(wire('tls::handshake-fragmented-512')?.certificateRecords).toBeGreaterThan(1);
        // mbedTLS 2.28 joins no handshake message split across records: every fragment size, and a
        // 16 kB chain that cannot fit one record, fail; 12 kB in one record passes. No EdDSA.
        expect(answer('tls.fragmented-handshake.every-size-reassembled').answer).toBe('no');
        expect(answer('size.served-chain.16k-accepted')).toMatchObject({ answer: 'no' });
        expect(answer('size.served-chain.16k-accepted').detail).toMatch(
          /largest accepted: 12 kB.*first refused: 16 kB/,
        );
        expect(answer('keys.ed25519.accepted').answer).toBe('no');
        expect(answer('keys.server-key.every-type-accepted').detail).toMatch(
          /refused Ed25519: the device does not offer the ed25519 signature scheme/,
        );
      } else {
        expect(answer('tls.fragmented-handshake.every-size-reassembled').answer).toBe('yes');
        expect(answer('size.served-chain.16k-accepted').answer).toBe('yes');
        expect(answer('keys.ed25519.accepted').answer).toBe('yes');
      }
    },
    300_000,
  );
});

describe('the virtual nRF91’s server-chain limit, found by the ladder', () => {
  const a = availability.mbedtls;
  it.skipIf(!a?.ok)(
    `4 kB accepted, 6 kB refused (the modelled 4,096-byte limit)${a && !a.ok ? ` (skipped: ${a.reason})` : ''}`,
    async () => {
      const { answer, records } = await runOn('nrf91-slm', 'mbedtls');
      const ladder = answer('size.served-chain.16k-accepted');
      expect(ladder.answer).toBe('no');
      expect(ladder.detail).toMatch(
        /largest accepted: 4 kB \(sizes::served-chain-4k\); first refused: 6 kB \(sizes::served-chain-6k/,
      );
      // The refusal is the limit's: the server served the whole 6 kB chain and the modem dropped it.
      const six = records.find((r) => r.case === 'sizes::served-chain-6k');
      expect(six?.virtualTls?.reason).toMatch(
        /6144 DER bytes\) exceeds what the modem's TLS receive path holds \(4096 bytes\)/,
      );
      // %CMNG takes a quoted PEM string: a DER anchor cannot be given, so nothing is sent for it.
      expect(answer('uploads.der.verifies')).toMatchObject({
        answer: 'not-applicable',
        detail: 'not expressible on nrf91-slm: its certificate upload takes PEM text only (no DER file)',
      });
      // TLS 1.2 only: the server's TLS 1.0/1.1 is refused (alert 70 protocol_version).
      expect(answer('tls.old-version-server.accepted').answer).toBe('no');
      // The fragment rung on the 8 kB chain says nothing: its twin is over the limit too.
      expect(answer('tls.fragmented-handshake.every-size-reassembled').detail).toMatch(
        /no answer from 4096-byte records/,
      );
    },
    300_000,
  );
});

describe('the new questions in the evidence and in a diff', () => {
  it('shows each ladder answer by its question in evidence.md, and the mbedTLS→OpenSSL change in trustlab diff', async (ctx) => {
    const mbed = runs.get('quectel/mbedtls');
    const openssl = runs.get('quectel/openssl');
    if (!mbed || !openssl) return ctx.skip();
    const evidence = readFileSync(join(mbed, 'evidence.md'), 'utf8');
    for (const id of [
      'size.served-chain.16k-accepted',
      'keys.ed25519.accepted',
      'chains.field-paths.followed',
      'tls.session.resumed-after-chain-change',
      'tls.server-hello.checked',
    ] as const)
      expect(evidence).toContain(QUESTIONS[id]);
    const diff = await promisify(execFile)(process.execPath, [BIN, 'diff', mbed, openssl, '--json'], {
      env: ENV,
      maxBuffer: 64 << 20,
    }).then(
      (r) => r.stdout,
      (e: { code?: number; stdout?: string }) => {
        if (e.code !== 1) throw e;
        return e.stdout ?? '';
      },
    );
    for (const id of [
      'size.served-chain.16k-accepted',
      'keys.ed25519.accepted',
      'tls.fragmented-handshake.every-size-reassembled',
    ])
      expect(diff).toContain(id);
  }, 60_000);
});
