/** Key algorithms the factory can issue with. */
export type KeyType =
  | 'rsa1024'
  | 'rsa2048'
  | 'rsa3072'
  | 'rsa4096'
  | 'rsa8192'
  | 'p256'
  | 'p384'
  | 'p521'
  | 'ed25519';

/**
 * What a scenario asks of the PKI. Safe defaults: the server chain is root → leaf with the
 * dialled host in the SAN, and the device is given the issuing root. A scenario changes one field.
 */
export interface HierarchySpec {
  /** Stable name used in subjects, so the same spec always yields the same names. */
  readonly name: string;
  readonly keyType: KeyType;
  /** The host the device dials; becomes the leaf's SAN (IP SAN for an IP literal). */
  readonly dialledHost: string;
  /** Which root the device is given as its trust anchor. */
  readonly anchor: 'issuing-root' | 'unrelated-root';
}

export interface CertSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly sha256: string;
}

/** A generated hierarchy: what the device trusts, what the server sends, and a manifest for reports. */
export interface Hierarchy {
  readonly spec: HierarchySpec;
  /** PEM bundle uploaded to the device as its trust anchors. */
  readonly anchorsPem: string;
  /** PEM chain the server sends, leaf first, exactly as served. */
  readonly servedChainPem: string;
  readonly serverKeyPem: string;
  /** The issuing root, for reference clients that must trust the real chain. */
  readonly issuingRootPem: string;
  readonly manifest: { readonly anchors: CertSummary[]; readonly served: CertSummary[] };
}
