import type { PkiSpec } from '../pki-spec.ts';
import type { SpecChange } from './change.ts';

/** OpenSSL 3.0 verification errors the catalogue names (include/openssl/x509_vfy.h). */
export const X509_V_ERR = {
  UNABLE_TO_GET_ISSUER_CERT: 2,
  CERT_SIGNATURE_FAILURE: 7,
  CERT_NOT_YET_VALID: 9,
  CERT_HAS_EXPIRED: 10,
  DEPTH_ZERO_SELF_SIGNED_CERT: 18,
  SELF_SIGNED_CERT_IN_CHAIN: 19,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 20,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 21,
  PATH_LENGTH_EXCEEDED: 25,
  INVALID_PURPOSE: 26,
  KEYUSAGE_NO_CERTSIGN: 32,
  UNHANDLED_CRITICAL_EXTENSION: 34,
  INVALID_NON_CA: 37,
  KEYUSAGE_NO_DIGITAL_SIGNATURE: 39,
  EXCLUDED_VIOLATION: 48,
  HOSTNAME_MISMATCH: 62,
  IP_ADDRESS_MISMATCH: 64,
  EE_KEY_TOO_SMALL: 66,
  CA_KEY_TOO_SMALL: 67,
  CA_MD_TOO_WEAK: 68,
  INVALID_CA: 79,
  KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA: 82,
  CA_BCONS_NOT_CRITICAL: 89,
  CA_CERT_MISSING_KEY_USAGE: 92,
} as const;

export type X509VErrName = keyof typeof X509_V_ERR;

export type OpensslVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** The X509_V_ERR_* name (without the prefix) that names the defect. */
      readonly error: X509VErrName;
      /** Chain depth OpenSSL reports it at: 0 = the leaf. */
      readonly depth: number;
    };

/**
 * What `openssl verify` must say. The inputs come from the hierarchy: -CAfile = the anchors
 * (-no-CAfile when none), -untrusted = everything served after the leaf, -attime = the device
 * clock, -verify_hostname/-verify_ip = the dialled host (server side only); the system store
 * is never consulted (-no-CApath -no-CAstore).
 */
export interface OpensslExpectation {
  /** The server chain the device checks, or the client certificate the broker checks. */
  readonly target: 'server' | 'client';
  /** Policy flags (-x509_strict, -purpose, -auth_level, -partial_chain …); the twin gets the same. */
  readonly flags: readonly string[];
  /** OpenSSL's verdict on the defective spec. The twin must always verify OK. */
  readonly verdict: OpensslVerdict;
  /** Set when OpenSSL accepts the defect by design: why, and who rejects it instead (`second`). */
  readonly lenientBecause?: string;
}

/** Checks Node's X509Certificate (OpenSSL's X509_check_host / X509_check_issued) can make. */
export type NodeX509Check =
  /** checkHost with subject: 'never' — no fallback to the subject CN (RFC 6125 §6.4.4, CABF). */
  | 'hostname-without-cn-fallback'
  /** checkHost with partialWildcards: false — `f*.example.com` matches nothing (RFC 6125 §6.4.3). */
  | 'hostname-without-partial-wildcards'
  /** Each served certificate is issued by the next one (TLS 1.2, RFC 5246 §7.4.2). */
  | 'served-chain-order';

/** A second, independent verifier that must reject the defect and accept the twin. */
export type SecondVerifier =
  | {
      readonly tool: 'certtool';
      /**
       * Text `certtool --verify` prints for the defect (its status line). certtool has no
       * -attime: it checks against the host clock, so build with the clock at "now".
       */
      readonly mustPrint: string;
    }
  | { readonly tool: 'node-x509'; readonly check: NodeX509Check }
  | {
      /**
       * Not a verdict: an `openssl x509 -ext` inspection of the leaf, for a defect no verifier
       * here rejects. It proves the defect is present in the defective spec and absent in the twin.
       */
      readonly tool: 'openssl-x509-inspect';
      readonly extension: 'basicConstraints';
      readonly defectPrints: string;
      readonly twinPrints: string;
    };

/** What independent verifiers must say about an entry; issue 7 reuses this for reference controls. */
export interface VerifierExpectations {
  readonly openssl: OpensslExpectation;
  /** Further OpenSSL runs that matter for this entry (e.g. with -partial_chain), with the reason. */
  readonly opensslVariants?: readonly (OpensslExpectation & { readonly why: string })[];
  /** Required when OpenSSL accepts a defect by design. */
  readonly second?: SecondVerifier;
}

export const FAMILIES = [
  'anchors',
  'chains',
  'validity',
  'names',
  'extensions',
  'signatures',
  'keys',
  'sizes',
  'client',
] as const;
export type Family = (typeof FAMILIES)[number];

/** The ladders: rungs of one quantity, read together for the largest accepted and first refused. */
export const LADDERS = {
  'served-chain-bytes': 'DER bytes of the chain the server sends',
  'leaf-bytes': 'DER bytes of the server certificate alone',
  'anchor-count': 'certificates in the one uploaded CA file',
  'leaf-key': 'the server certificate’s key type',
  'handshake-fragment': 'bytes per record the server cuts its handshake into',
} as const;
export type LadderId = keyof typeof LADDERS;

/** One rung: its ladder, its place on it (bytes, count, or the order of key strength) and a label. */
export interface LadderRung {
  readonly ladder: LadderId;
  readonly rung: number;
  readonly label: string;
}

/**
 * One catalogue entry. A `defect` must be rejected by a conforming verifier; a `control` must be
 * accepted (it probes a capability: depth, key type, wildcard, several anchors). Either way the
 * twin is the same hierarchy without the change and must be accepted.
 */
export interface CatalogueEntry {
  readonly id: `${Family}::${string}`;
  readonly family: Family;
  readonly title: string;
  readonly kind: 'defect' | 'control';
  /** The hierarchy under test (named `id`). */
  readonly spec: PkiSpec;
  /** The passing twin: the same hierarchy minus the change (named `id~twin`). */
  readonly twin: PkiSpec;
  /** What turns the twin into the spec, as data. */
  readonly change: readonly SpecChange[];
  readonly expect: VerifierExpectations;
  /** Set on the rungs of a ladder. */
  readonly ladder?: LadderRung;
  /** Only in the full matrix (`--full`): a ladder's rungs beside its one representative. */
  readonly fullOnly?: boolean;
}
