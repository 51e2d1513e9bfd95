import { isIP } from 'node:net';
import type { KeyType } from './spec.ts';

/** Signature hashes the factory can sign with (MD5 only over RSA: ECDSA-with-MD5 has no OID). */
export type HashName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'MD5';

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign';

export interface GeneralNameSpec {
  readonly type: 'dns' | 'ip';
  readonly value: string;
}

/** Role decides the safe defaults a certificate gets when a field is left undefined. */
export type CertRole = 'root' | 'intermediate' | 'leaf' | 'client';

/** Validity relative to the device clock, in whole days (negative = before the clock). */
export interface ValidityWindow {
  readonly notBeforeDays: number;
  readonly notAfterDays: number;
}

/**
 * One certificate of a hierarchy, as data. `undefined` means "the safe default for the role";
 * `null` means "omit this extension". Each field is one thing a case may change.
 */
export interface CertSpec {
  /** Local name within the hierarchy ('root', 'ica1', 'leaf', …); also names its files. */
  readonly ref: string;
  readonly role: CertRole;
  /** Ref of the issuing certificate; its own ref for a self-signed certificate. */
  readonly issuer: string;
  readonly commonName?: string;
  /** Overrides the hierarchy's key type for this certificate's own key. */
  readonly keyType?: KeyType;
  /** Share a key with another certificate (cross-signing): the key cache slot, default `ref`. */
  readonly keySlot?: string;
  /** Hash of the signature the issuer puts on this certificate. */
  readonly hash?: HashName;
  readonly version?: 1 | 3;
  readonly validity?: ValidityWindow;
  readonly basicConstraints?: {
    readonly ca: boolean;
    readonly pathLength?: number;
    readonly critical: boolean;
  } | null;
  readonly keyUsage?: { readonly usages: readonly KeyUsageName[]; readonly critical: boolean } | null;
  readonly extendedKeyUsage?: readonly ('serverAuth' | 'clientAuth')[] | null;
  readonly subjectAltNames?: readonly GeneralNameSpec[] | null;
  readonly subjectKeyIdentifier?: boolean;
  readonly authorityKeyIdentifier?: boolean;
  /** Critical nameConstraints with these DNS subtrees. */
  readonly nameConstraints?: {
    readonly permittedDns?: readonly string[];
    readonly excludedDns?: readonly string[];
  };
  /** Adds a critical extension with a private OID no verifier knows. */
  readonly unknownCriticalExtension?: boolean;
  /** Flips one bit of the signature after signing. */
  readonly corruptSignature?: boolean;
  /** The DER certificate is made exactly this long by a non-critical filler extension (size ladders). */
  readonly padToBytes?: number;
}

/**
 * A whole case's PKI as data: every certificate, what the device is given as anchors, what the
 * server sends (order and contents exactly as listed), and the optional mutual-TLS client side.
 */
export interface PkiSpec {
  /** Stable name used in subjects and serials; the same spec always yields the same names. */
  readonly name: string;
  /** Default key type of every certificate. */
  readonly keyType: KeyType;
  /** The name or IP literal the device dials. */
  readonly dialledHost: string;
  /** Every certificate (any order; issuers are issued first). Only what the case uses is built. */
  readonly certs: readonly CertSpec[];
  /** Refs uploaded to the device as trust anchors; empty = no CA uploaded. */
  readonly anchors: readonly string[];
  /** Refs the server sends, first = the leaf whose key the server holds. */
  readonly served: readonly string[];
  readonly client?: {
    /** Ref of the client certificate the device presents; its key is the client key. */
    readonly cert: string;
    /** Extra certificates the device sends after its own. */
    readonly chain?: readonly string[];
    /** Refs the server trusts for client certificates. */
    readonly anchors: readonly string[];
  };
}

export const DEFAULT_VALIDITY: Readonly<Record<CertRole, ValidityWindow>> = {
  root: { notBeforeDays: -365, notAfterDays: 3650 },
  intermediate: { notBeforeDays: -365, notAfterDays: 1825 },
  leaf: { notBeforeDays: -30, notAfterDays: 365 },
  client: { notBeforeDays: -30, notAfterDays: 365 },
};

export function sanFor(host: string): GeneralNameSpec {
  return { type: isIP(host) ? 'ip' : 'dns', value: host };
}

export interface StandardShape {
  readonly name: string;
  readonly keyType: KeyType;
  readonly dialledHost: string;
  /** Intermediates between root and leaf (0 = root issues the leaf). */
  readonly intermediates: number;
}

/**
 * The safe default hierarchy: root → ica1 … icaN → leaf, the server sends leaf + intermediates
 * (nearest first), the device trusts the root, and an unrelated root exists for wrong-CA cases.
 */
export function standardSpec(shape: StandardShape): PkiSpec {
  const certs: CertSpec[] = [
    { ref: 'root', role: 'root', issuer: 'root' },
    { ref: 'unrelated-root', role: 'root', issuer: 'unrelated-root', commonName: 'TrustLab Unrelated Root' },
  ];
  let issuer = 'root';
  const icas: string[] = [];
  for (let i = 1; i <= shape.intermediates; i++) {
    const ref = `ica${i}`;
    certs.push({ ref, role: 'intermediate', issuer });
    icas.unshift(ref);
    issuer = ref;
  }
  certs.push({ ref: 'leaf', role: 'leaf', issuer });
  return {
    name: shape.name,
    keyType: shape.keyType,
    dialledHost: shape.dialledHost,
    certs,
    anchors: ['root'],
    served: ['leaf', ...icas],
  };
}

const NAME_PATTERN = /^[A-Za-z0-9:._~ -]{1,60}$/;

/** Rejects specs that cannot be built, with the reason, before any key is generated. */
export function validateSpec(spec: PkiSpec): void {
  const fail = (why: string): never => {
    throw new Error(`PKI spec "${spec.name}": ${why}`);
  };
  if (!NAME_PATTERN.test(spec.name)) fail('name must be 1-60 of [A-Za-z0-9:._~ -] (it goes into OU)');
  const seen = new Map<string, CertSpec>();
  for (const cert of spec.certs) {
    if (seen.has(cert.ref)) fail(`duplicate ref "${cert.ref}"`);
    if (!/^[a-z0-9-]+$/.test(cert.ref)) fail(`ref "${cert.ref}" must be [a-z0-9-] (it names files)`);
    seen.set(cert.ref, cert);
  }
  for (const cert of seen.values()) {
    let current = cert;
    for (let hops = 0; current.issuer !== current.ref; hops++) {
      const next = seen.get(current.issuer);
      if (!next) fail(`"${current.ref}" is issued by unknown ref "${current.issuer}"`);
      if (hops > seen.size) fail(`issuer loop above "${cert.ref}"`);
      current = next as CertSpec;
    }
  }
  const known = (ref: string, where: string) => {
    if (!seen.has(ref)) fail(`${where} names unknown ref "${ref}"`);
  };
  for (const ref of spec.anchors) known(ref, 'anchors');
  if (spec.served.length === 0) fail('served must name at least the leaf');
  for (const ref of spec.served) known(ref, 'served');
  if (spec.client) {
    known(spec.client.cert, 'client.cert');
    for (const ref of spec.client.chain ?? []) known(ref, 'client.chain');
    for (const ref of spec.client.anchors) known(ref, 'client.anchors');
  }
}
