import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PkiHierarchy } from './build.ts';
import type { CertSummary } from './spec.ts';

/** Paths of everything writeCaseFiles wrote; optional ones are null when the case has none. */
export interface CaseFiles {
  readonly dir: string;
  /** Anchors uploaded to the device (PEM bundle); null = no CA uploaded. */
  readonly anchors: string | null;
  /** The served chain, exactly as served. */
  readonly chain: string;
  /** The leaf alone (first served certificate). */
  readonly leaf: string;
  /** Everything served after the leaf (for `openssl verify -untrusted`); null when only the leaf. */
  readonly untrusted: string | null;
  readonly serverKey: string;
  /** Key, served chain and anchors in one PEM file, each block preceded by a comment. */
  readonly bundle: string;
  readonly clientChain: string | null;
  readonly clientCert: string | null;
  readonly clientKey: string | null;
  readonly clientAnchors: string | null;
  /** One line of JSON: clock, anchors, served and client certificates with fingerprints. */
  readonly manifest: string;
  /** `<ref>.pem` and `<ref>.der` of every certificate, by ref. */
  readonly certs: ReadonlyMap<string, { readonly pem: string; readonly der: string }>;
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** The manifest as one line that reports can show. */
export function manifestLine(h: PkiHierarchy): string {
  const short = (s: CertSummary) => ({
    subject: s.subject,
    issuer: s.issuer,
    serial: s.serial,
    notBefore: s.notBefore,
    notAfter: s.notAfter,
    sha256: s.sha256,
  });
  return JSON.stringify({
    name: h.spec.name,
    clock: h.clock.toISOString(),
    dialledHost: h.spec.dialledHost,
    anchors: h.manifest.anchors.map(short),
    served: h.manifest.served.map(short),
    client: h.manifest.client.map(short),
  });
}

/** Writes a case's PEM and DER files, a combined bundle and the one-line manifest into `dir`. */
export async function writeCaseFiles(dir: string, h: PkiHierarchy): Promise<CaseFiles> {
  await mkdir(dir, { recursive: true });
  const writes: Promise<void>[] = [];
  const put = (name: string, data: string | Uint8Array): string => {
    const path = join(dir, name);
    writes.push(writeFile(path, data));
    return path;
  };
  const certs = new Map<string, { pem: string; der: string }>();
  for (const [ref, cert] of h.certs) {
    certs.set(ref, { pem: put(`${ref}.pem`, cert.pem), der: put(`${ref}.der`, cert.der) });
  }
  const served = h.spec.served.map((ref) => h.certs.get(ref)?.pem ?? '');
  const comment = (what: string) => `# ${what}\n`;
  const bundle = [
    comment(`${h.spec.name}: server key`),
    h.serverKeyPem,
    comment(`served chain: ${h.spec.served.join(', ')}`),
    h.servedChainPem,
    comment(`anchors uploaded to the device: ${h.spec.anchors.join(', ') || 'none'}`),
    h.anchorsPem ?? '',
  ].join('');
  const files: CaseFiles = {
    dir,
    anchors: h.anchorsPem === null ? null : put('anchors.pem', h.anchorsPem),
    chain: put('chain.pem', h.servedChainPem),
    leaf: put('served-leaf.pem', served[0] ?? ''),
    untrusted: served.length > 1 ? put('served-untrusted.pem', served.slice(1).join('')) : null,
    serverKey: put('server.key.pem', h.serverKeyPem),
    bundle: put('bundle.pem', bundle),
    clientChain: h.client ? put('client-chain.pem', h.client.chainPem) : null,
    clientCert: h.client ? put('client.pem', h.client.certPem) : null,
    clientKey: h.client ? put('client.key.pem', h.client.keyPem) : null,
    clientAnchors: h.client ? put('client-anchors.pem', h.client.anchorsPem) : null,
    manifest: put('manifest.json', `${manifestLine(h)}\n`),
    certs,
  };
  put('server.key.der', pemToDer(h.serverKeyPem));
  await Promise.all(writes);
  return files;
}
