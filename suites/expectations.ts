import type { ProfileName } from './profiles.ts';
import type { ProfileExpectation } from './scenario-model.ts';

type Table = Readonly<Record<ProfileName, ProfileExpectation>>;

const all = (result: 'accept' | 'reject'): Table => ({
  rfc5280: { result },
  webpki: { result },
  'mbedtls-2.28': { result },
});

const ACCEPT = 'accept' as const;
const REJECT = 'reject' as const;

/**
 * Where the profiles disagree, or where one of them differs from what the catalogue kind suggests
 * (a defect is refused, a control accepted, by every profile). Each side says which rule it follows.
 * mbedTLS 2.28 answers come from its library/x509_crt.c (v2.28.10) and its test data, and from a
 * measured 2.28.3 handshake matrix.
 */
const DISAGREEMENTS: Readonly<Record<string, Table>> = {
  'anchors::intermediate-as-anchor': {
    rfc5280: {
      result: ACCEPT,
      because: 'RFC 5280 §6.1.1: any certificate may be a trust anchor (its name and key)',
    },
    webpki: {
      result: ACCEPT,
      because: 'a trust anchor is a subject and key (RFC 5914); browsers and webpki accept it',
    },
    'mbedtls-2.28': {
      result: ACCEPT,
      because: 'mbedTLS 2.28 accepts an intermediate used as the trust anchor (§6)',
    },
  },
  'anchors::v1-root': {
    rfc5280: {
      result: ACCEPT,
      because:
        'RFC 5280 §6.1.1 takes the anchor as name and key; a v1 anchor is not processed as a certificate',
    },
    webpki: { result: REJECT, because: 'CABF BR §7.1: certificates, roots included, are X.509 v3' },
    'mbedtls-2.28': { result: ACCEPT, because: 'x509_crt_check_parent exempts v1 trusted roots (test #70)' },
  },
  'anchors::root-without-key-usage': {
    rfc5280: { result: REJECT, because: 'RFC 5280 §4.2.1.3: a CA certificate must carry keyUsage' },
    webpki: { result: REJECT, because: 'CABF BR §7.1.2.1: a root carries keyUsage with keyCertSign' },
    'mbedtls-2.28': {
      result: ACCEPT,
      because: 'mbedTLS checks keyCertSign only when a KeyUsage extension is present',
    },
  },
  'anchors::root-bc-not-critical': {
    rfc5280: {
      result: REJECT,
      because: 'RFC 5280 §4.2.1.9: basicConstraints is critical in CA certificates',
    },
    webpki: { result: REJECT, because: 'CABF BR §7.1.2.1: a root’s basicConstraints is critical' },
    'mbedtls-2.28': { result: ACCEPT, because: 'mbedTLS 2.28 does not check basicConstraints criticality' },
  },
  'chains::reverse-order': {
    rfc5280: {
      result: ACCEPT,
      because: 'path validation does not depend on the order served; RFC 8446 §4.4.2 allows any order',
    },
    webpki: { result: ACCEPT, because: 'browsers and webpki build the path from whatever was sent' },
    'mbedtls-2.28': {
      result: REJECT,
      because:
        'mbedTLS 2.28.3 refused reverse-ordered intermediates in a measured handshake (node-ecosystem §7.4, alert 48)',
    },
  },
  'chains::extra-unrelated-cert': {
    rfc5280: {
      result: ACCEPT,
      because: 'path building ignores certificates that are not on the path (RFC 4158)',
    },
    webpki: { result: ACCEPT, because: 'browsers and webpki ignore certificates they cannot use' },
    'mbedtls-2.28': {
      result: ACCEPT,
      because: 'spurious certificates in the chain are skipped (x509parse tests #88, #89)',
    },
  },
  'names::cn-only-no-san': {
    rfc5280: {
      result: ACCEPT,
      because: 'RFC 6125 §6.4.4: a client may fall back to the CN when there is no SAN',
    },
    webpki: { result: REJECT, because: 'CABF and RFC 9525: the CN is never used for the name check' },
    'mbedtls-2.28': { result: ACCEPT, because: 'mbedTLS 2.28 checks the CN when the certificate has no SAN' },
  },
  'names::wildcard-partial': {
    rfc5280: { result: ACCEPT, because: 'RFC 6125 §6.4.3 lets a client match a partial wildcard label' },
    webpki: {
      result: REJECT,
      because: 'CABF BR §7.1.4.2 and RFC 9525 allow only a whole-label leading wildcard',
    },
    'mbedtls-2.28': { result: REJECT, because: 'mbedTLS 2.28 accepts a wildcard only as a leading "*."' },
  },
  'names::ip-literal-ip-san': {
    rfc5280: { result: ACCEPT, because: 'RFC 6125 §3.1.3.2: an IP literal matches an iPAddress SAN' },
    webpki: { result: ACCEPT, because: 'an IP literal matches an iPAddress SAN' },
    'mbedtls-2.28': {
      result: REJECT,
      because:
        'mbedTLS 2.28 has no iPAddress SAN matching (x509_crt_check_san); the hostname set is the literal',
    },
  },
  'names::ip-literal-dns-san': {
    rfc5280: {
      result: REJECT,
      because: 'RFC 6125 §3.1.3.2: an IP literal is never matched against a dNSName',
    },
    webpki: { result: REJECT, because: 'an IP literal is never matched against a dNSName' },
    'mbedtls-2.28': {
      result: ACCEPT,
      because: 'mbedTLS 2.28 compares the literal hostname string with dNSName entries',
    },
  },
  'extensions::leaf-ca-true': {
    rfc5280: {
      result: ACCEPT,
      because: 'RFC 5280 has no rule against a CA certificate used as the end entity',
    },
    webpki: { result: REJECT, because: 'CABF BR §7.1.2.7.8: a subscriber certificate has cA=FALSE' },
    'mbedtls-2.28': {
      result: ACCEPT,
      because:
        'measured: mbedTLS 2.28 (libmbedtls through the virtual modem engine) accepts a cA=TRUE leaf whose KeyUsage has digitalSignature; its TLS layer checks KU and EKU, not BasicConstraints',
    },
  },
  'extensions::name-constraints-exclude-dialled-name~twin': {
    rfc5280: {
      result: ACCEPT,
      because: 'RFC 5280 §4.2.1.10: nameConstraints that do not exclude the name pass',
    },
    webpki: { result: ACCEPT, because: 'browsers process nameConstraints' },
    'mbedtls-2.28': {
      result: REJECT,
      because: 'mbedTLS 2.28 cannot parse a critical nameConstraints extension (Mbed-TLS#8759)',
    },
  },
  'keys::leaf-ed25519': {
    rfc5280: { result: ACCEPT, because: 'RFC 8410 defines Ed25519 keys and signatures for X.509' },
    webpki: {
      result: REJECT,
      because: 'CABF BR §6.1.5 permits RSA and ECDSA P-256/384/521 subscriber keys only',
    },
    'mbedtls-2.28': { result: REJECT, because: 'mbedTLS 2.28 has no EdDSA (no Ed25519 key type in pk.h)' },
  },
  'sizes::served-chain-16k': recordSpanning('the Certificate message'),
  'sizes::leaf-16k': recordSpanning('a 16 kB certificate'),
  'signatures::sha1-leaf': sha1(),
  'signatures::sha1-intermediate': sha1(),
  'signatures::rsa1024-leaf': rsa1024(),
  'signatures::rsa1024-root': rsa1024(),
};

/** A handshake message over 2^14 bytes must span records (RFC 5246 §6.2.1), which mbedTLS 2.28 cannot join. */
function recordSpanning(what: string): Table {
  return {
    rfc5280: { result: ACCEPT, because: `RFC 5246 §6.2.1: ${what} may span TLS records` },
    webpki: { result: ACCEPT, because: 'browsers reassemble handshake messages of any size they accept' },
    'mbedtls-2.28': {
      result: REJECT,
      because: `${what} exceeds one 16,384-byte record, and mbedTLS before 3.6.3 cannot reassemble a handshake message`,
    },
  };
}

function sha1(): Table {
  return {
    rfc5280: {
      result: ACCEPT,
      because: 'RFC 5280 sets no hash policy; SHA-1 is deprecated elsewhere (RFC 9155)',
    },
    webpki: { result: REJECT, because: 'CABF BR §7.1.3.2: no SHA-1 signatures' },
    'mbedtls-2.28': { result: REJECT, because: 'the default profile allows SHA-224 and up (BADCERT_BAD_MD)' },
  };
}

function rsa1024(): Table {
  return {
    rfc5280: { result: ACCEPT, because: 'RFC 5280 sets no minimum key size' },
    webpki: { result: REJECT, because: 'CABF BR §6.1.5: RSA keys of at least 2048 bits' },
    'mbedtls-2.28': {
      result: REJECT,
      because: 'the default profile needs RSA ≥ 2048 bits (BADCERT_BAD_KEY)',
    },
  };
}

/** The expectation of a scenario built from a catalogue entry, by id (or `id~twin`) and kind. */
export function expectationFor(id: string, kind: 'defect' | 'control'): Table {
  return DISAGREEMENTS[id] ?? all(kind === 'defect' ? REJECT : ACCEPT);
}

export { all as unanimous };
