import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeAnchorsFile, writeClientCertFiles } from './anchors-file.ts';
import type {
  EngineAvailability,
  TlsEngine,
  TlsHandshakeRequest,
  TlsHandshakeResult,
  TlsVersion,
} from './engine.ts';
import { runSubprocessHandshake } from './subprocess-handshake.ts';

const SOURCE = fileURLToPath(new URL('./mbedtls-client.c', import.meta.url));
const CACHE_DIR = fileURLToPath(new URL('../../../.cache/', import.meta.url));

/** mbedTLS verify flags (include/mbedtls/x509.h, 2.28). */
export const MBEDTLS_FLAGS = {
  EXPIRED: 0x01,
  REVOKED: 0x02,
  CN_MISMATCH: 0x04,
  NOT_TRUSTED: 0x08,
  MISSING: 0x40,
  SKIP_VERIFY: 0x80,
  OTHER: 0x0100,
  FUTURE: 0x0200,
  KEY_USAGE: 0x0800,
  EXT_KEY_USAGE: 0x1000,
  BAD_MD: 0x4000,
  BAD_PK: 0x8000,
  BAD_KEY: 0x10000,
} as const;

const SIGNATURE_PROFILE_FLAGS = MBEDTLS_FLAGS.BAD_MD | MBEDTLS_FLAGS.BAD_PK | MBEDTLS_FLAGS.BAD_KEY;

const VERSION_ARG: Record<TlsVersion, string | null> = {
  TLSv1: 'tls1.0',
  'TLSv1.1': 'tls1.1',
  'TLSv1.2': 'tls1.2',
  'TLSv1.3': null, // mbedTLS 2.28 speaks TLS 1.2 at most
};

let build: Promise<{ ok: true; binary: string } | { ok: false; reason: string }> | null = null;

/**
 * Compiles the client once per process into `.cache/` (named by the source's hash, so an edited
 * source rebuilds), against the system's libmbedtls-dev.
 */
export function buildMbedtlsClient(): Promise<{ ok: true; binary: string } | { ok: false; reason: string }> {
  build ??= (async () => {
    const source = readFileSync(SOURCE);
    const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
    const binary = join(CACHE_DIR, `mbedtls-client-${hash}`);
    if (existsSync(binary)) return { ok: true as const, binary };
    mkdirSync(CACHE_DIR, { recursive: true });
    const partial = `${binary}.${process.pid}.tmp`;
    try {
      await promisify(execFile)(
        'cc',
        ['-O1', '-o', partial, SOURCE, '-lmbedtls', '-lmbedx509', '-lmbedcrypto'],
        { timeout: 60_000 },
      );
      renameSync(partial, binary); // atomic: a concurrent build never sees half a binary
      return { ok: true as const, binary };
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      const reason = (e.stderr || e.message).split('\n').find((l) => l.trim() !== '') ?? e.message;
      return {
        ok: false as const,
        reason: `mbedTLS client did not build (libmbedtls-dev and cc needed): ${reason}`,
      };
    }
  })();
  return build;
}

/** mbedTLS 2.28 via the small C client: the stack the modems run, sending alerts as it does. */
export const mbedtlsEngine: TlsEngine = {
  id: 'mbedtls',
  async available(): Promise<EngineAvailability> {
    const b = await buildMbedtlsClient();
    return b.ok ? { ok: true } : { ok: false, reason: b.reason };
  },
  async handshake(req: TlsHandshakeRequest): Promise<TlsHandshakeResult> {
    const b = await buildMbedtlsClient();
    if (!b.ok) return { ok: false, engine: 'mbedtls', stage: 'engine', reason: b.reason, unsupported: [] };
    const unsupported: string[] = [];
    const min = VERSION_ARG[req.versions.min];
    const max = VERSION_ARG[req.versions.max] ?? 'tls1.2';
    if (min === null) {
      return {
        ok: false,
        engine: 'mbedtls',
        stage: 'engine',
        reason: 'mbedTLS 2.28 has no TLS 1.3',
        unsupported,
      };
    }
    const anchors = await writeAnchorsFile(req.anchorsPem);
    const args = ['--connect', req.address, '--port', String(req.port), '--relay'];
    args.push('--min-version', min, '--max-version', max);
    args.push('--authmode', req.verify ? 'required' : 'none');
    if (anchors.path) args.push('--ca', anchors.path);
    const own = await writeClientCertFiles(anchors.dir, req.clientCert);
    if (own) args.push('--cert', own.cert, '--key', own.key);
    if (req.sni !== null) args.push('--sni', req.sni);
    if (req.checkName !== null) args.push('--check-name', req.checkName);
    if (req.checkName !== null && req.nameRules === 'rfc6125' && isIP(req.checkName)) args.push('--ip-san');
    if (req.cipherSuites) args.push('--ciphers', req.cipherSuites.map((id) => id.toString(16)).join(','));
    if (req.deviceTime) args.push('--now', String(Math.floor(req.deviceTime.getTime() / 1000)));
    if (req.ignoreValidity) args.push('--ignore-time');
    if (req.ignoreChainAboveLeaf) args.push('--leaf-only');
    if (req.ignoreSignatureProfile) args.push('--clear-flags', SIGNATURE_PROFILE_FLAGS.toString(16));
    if (req.sessionFile) args.push('--session', req.sessionFile);
    try {
      return await runSubprocessHandshake({
        engine: 'mbedtls',
        command: b.binary,
        args,
        unsupported,
        timeoutMs: req.timeoutMs,
        interpret(line, seen) {
          const ok = /^handshake=OK version=(\S+) suite=(\S+)/.exec(line);
          if (ok) return { ok: true, version: ok[1] ?? '', cipher: ok[2] ?? '' };
          const connect = /^connect=FAIL (.*)$/.exec(line);
          if (connect) return { ok: false, stage: 'connect', reason: `connect failed ${connect[1]}` };
          // The verdict line comes after the FAIL line: wait for verify_flags to know why.
          const flags = /^verify_flags=0x([0-9a-f]+)/.exec(line);
          const failed = seen.find((l) => l.startsWith('handshake=FAIL'));
          if (flags && failed) {
            const verifyFlags = Number.parseInt(flags[1] ?? '0', 16);
            return {
              ok: false,
              stage: 'handshake',
              reason: failed.slice('handshake=FAIL '.length),
              ...(verifyFlags !== 0xffffffff ? { verifyFlags } : {}),
            };
          }
          return null;
        },
        onEarlyExit: (seen) => ({ stage: 'engine', reason: seen.at(-1) ?? 'mbedTLS client exited' }),
      });
    } finally {
      // The client has read its CA file by the time the handshake is decided.
      await anchors.remove();
    }
  },
};

/**
 * The same verification offline: the chain (leaf first) against the anchors with the handshake's
 * profile, name rules and clock, and no TLS. Says what mbedTLS 2.28 decides about the certificates
 * alone, so a difference on the wire is the TLS layer's.
 */
export async function mbedtlsVerifyOffline(input: {
  readonly anchorsFile: string;
  readonly chainFile: string;
  readonly checkName: string;
  readonly now: Date;
}): Promise<{ readonly ok: boolean; readonly words: string }> {
  const b = await buildMbedtlsClient();
  if (!b.ok) throw new Error(b.reason);
  const args = [
    '--verify-chain',
    input.chainFile,
    '--ca',
    input.anchorsFile,
    '--check-name',
    input.checkName,
  ];
  if (isIP(input.checkName)) args.push('--ip-san');
  args.push('--now', String(Math.floor(input.now.getTime() / 1000)));
  const result = await promisify(execFile)(b.binary, args, { timeout: 20_000 }).then(
    (r) => ({ ok: true, stderr: r.stderr }),
    (e: { stderr?: string }) => ({ ok: false, stderr: e.stderr ?? '' }),
  );
  const line =
    result.stderr.split('\n').find((l) => l.startsWith('offline=')) ?? 'offline=? (no verdict line)';
  return {
    ok: result.ok && line.startsWith('offline=OK'),
    words: line.replace(/^offline=\S+\s*/, '').trim(),
  };
}
