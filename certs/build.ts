import { X509Certificate } from 'node:crypto';
import { type IssuedCert, issueCertificate } from './issue.ts';
import { KeyCache, sharedKeyCache } from './keys.ts';
import { type CertSpec, type PkiSpec, validateSpec } from './pki-spec.ts';
import type { CertSummary } from './spec.ts';
import { toPem } from './x509.ts';

export interface BuildOptions {
  /**
   * The device's clock: every validity window is placed relative to it, so an "expired" case
   * stays expired whatever today's date is. Rounded down to 00:00 UTC, so one day's builds
   * carry identical dates. Default: now.
   */
  readonly clock?: Date;
  /** Where keys come from; default the process-wide cache over `.cache/keys/`. */
  readonly keys?: KeyCache;
}

export interface BuiltCert {
  readonly ref: string;
  readonly pem: string;
  readonly der: Uint8Array;
  readonly summary: CertSummary;
}

/** A built case: the device's anchors, the served chain, the server key, and the client side. */
export interface PkiHierarchy {
  readonly spec: PkiSpec;
  /** The device clock the validity windows were placed against (00:00 UTC of that day). */
  readonly clock: Date;
  /** Every certificate that was needed, by ref, in issuing order. */
  readonly certs: ReadonlyMap<string, BuiltCert>;
  /** PEM bundle uploaded to the device; null = no CA uploaded. */
  readonly anchorsPem: string | null;
  /** PEM chain the server sends, exactly as specified (order, extras, omissions). */
  readonly servedChainPem: string;
  readonly serverKeyPem: string;
  /** The self-signed root at the top of the leaf's issuer chain, for reference clients. */
  readonly issuingRootPem: string;
  readonly client: {
    readonly certPem: string;
    /** The client certificate followed by its extra chain, as the device sends it. */
    readonly chainPem: string;
    readonly keyPem: string;
    /** What the server trusts for client certificates. */
    readonly anchorsPem: string;
  } | null;
  readonly manifest: {
    readonly anchors: CertSummary[];
    readonly served: CertSummary[];
    readonly client: CertSummary[];
  };
}

export function startOfUtcDay(date: Date): Date {
  const day = new Date(date.getTime());
  day.setUTCHours(0, 0, 0, 0);
  return day;
}

export function summarize(pem: string): CertSummary {
  const cert = new X509Certificate(pem);
  return {
    subject: cert.subject.replaceAll('\n', ', '),
    issuer: cert.issuer.replaceAll('\n', ', '),
    serial: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    sha256: cert.fingerprint256,
  };
}

/** Refs the case actually uses (anchors, served, client) plus every issuer above them. */
function neededRefs(spec: PkiSpec, byRef: ReadonlyMap<string, CertSpec>): Set<string> {
  const needed = new Set<string>();
  const visit = (ref: string) => {
    while (!needed.has(ref)) {
      needed.add(ref);
      const cert = byRef.get(ref);
      if (!cert) return;
      ref = cert.issuer;
    }
  };
  const roots = [...spec.anchors, ...spec.served];
  if (spec.client) roots.push(spec.client.cert, ...(spec.client.chain ?? []), ...spec.client.anchors);
  for (const ref of roots) visit(ref);
  return needed;
}

/** Issuers before what they issue (validateSpec has ruled out loops and unknown issuers). */
function issuingOrder(certs: readonly CertSpec[]): CertSpec[] {
  const pending = [...certs];
  const done = new Set<string>();
  const ordered: CertSpec[] = [];
  while (pending.length > 0) {
    const next = pending.findIndex((c) => c.issuer === c.ref || done.has(c.issuer));
    const [cert] = pending.splice(next < 0 ? 0 : next, 1);
    if (!cert) break;
    ordered.push(cert);
    done.add(cert.ref);
  }
  return ordered;
}

function topRootOf(ref: string, byRef: ReadonlyMap<string, CertSpec>): string {
  let current = ref;
  for (let hops = 0; hops <= byRef.size; hops++) {
    const cert = byRef.get(current);
    if (!cert || cert.issuer === current) return current;
    current = cert.issuer;
  }
  throw new Error(`issuer loop above "${ref}"`);
}

/** Builds every certificate a spec needs: real keys, real signatures, nothing left implicit. */
export async function buildPki(spec: PkiSpec, options: BuildOptions = {}): Promise<PkiHierarchy> {
  validateSpec(spec);
  const clock = startOfUtcDay(options.clock ?? new Date());
  const keys = options.keys ?? sharedKeyCache();
  const byRef = new Map(spec.certs.map((c) => [c.ref, c]));
  const needed = neededRefs(spec, byRef);
  const wanted = issuingOrder(spec.certs.filter((c) => needed.has(c.ref)));
  // Fetch (or generate) every key at once: RSA generation runs in parallel in the libuv pool.
  const ownKeys = await Promise.all(
    wanted.map((c) => keys.get(c.keyType ?? spec.keyType, c.keySlot ?? c.ref)),
  );
  const issued = new Map<string, IssuedCert>();
  for (const [i, cert] of wanted.entries()) {
    const ownKey = ownKeys[i];
    if (!ownKey) throw new Error(`no key for "${cert.ref}"`);
    const issuer = cert.issuer === cert.ref ? undefined : issued.get(cert.issuer);
    issued.set(cert.ref, issueCertificate({ spec, cert, ownKey, issuer, clock }));
  }
  const certs = new Map<string, BuiltCert>();
  for (const [ref, c] of issued) certs.set(ref, { ref, pem: c.pem, der: c.der, summary: c.summary });
  const get = (ref: string): IssuedCert => {
    const c = issued.get(ref);
    if (!c) throw new Error(`ref "${ref}" was not issued`);
    return c;
  };
  const pemOf = (refs: readonly string[]) => refs.map((r) => get(r).pem).join('');
  const summaries = (refs: readonly string[]) => refs.map((r) => certs.get(r)?.summary as CertSummary);
  const leaf = get(spec.served[0] as string);
  const clientSpec = spec.client;
  const client = clientSpec
    ? {
        certPem: get(clientSpec.cert).pem,
        chainPem: pemOf([clientSpec.cert, ...(clientSpec.chain ?? [])]),
        keyPem: toPem(get(clientSpec.cert).key.pkcs8Der, 'PRIVATE KEY'),
        anchorsPem: pemOf(clientSpec.anchors),
      }
    : null;
  return {
    spec,
    clock,
    certs,
    anchorsPem: spec.anchors.length > 0 ? pemOf(spec.anchors) : null,
    servedChainPem: pemOf(spec.served),
    serverKeyPem: toPem(leaf.key.pkcs8Der, 'PRIVATE KEY'),
    issuingRootPem: get(topRootOf(leaf.spec.ref, byRef)).pem,
    client,
    manifest: {
      anchors: summaries(spec.anchors),
      served: summaries(spec.served),
      client: clientSpec ? summaries([clientSpec.cert, ...(clientSpec.chain ?? [])]) : [],
    },
  };
}

export { KeyCache };
