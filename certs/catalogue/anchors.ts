import { accepts, type Base, define, rejects } from './define.ts';
import type { CatalogueEntry } from './types.ts';

/** What the device is given to trust, and what that anchor looks like. */
export function anchorEntries(base: Base): CatalogueEntry[] {
  return [
    define(base, {
      id: 'anchors::wrong-ca',
      title: 'an unrelated root uploaded instead of the issuing root',
      change: [{ op: 'anchors', refs: ['unrelated-root'] }],
      expect: rejects('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 1),
    }),
    define(base, {
      id: 'anchors::no-ca-uploaded',
      title: 'no CA uploaded at all',
      change: [{ op: 'anchors', refs: [] }],
      expect: rejects('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 1),
    }),
    define(base, {
      id: 'anchors::wrong-then-right-root',
      title: 'a bundle of two roots, the unrelated one first, then the issuing one',
      kind: 'control',
      change: [{ op: 'anchors', refs: ['unrelated-root', 'root'] }],
      expect: { openssl: accepts() },
    }),
    define(base, {
      id: 'anchors::intermediate-as-anchor',
      title: 'the intermediate uploaded as the only anchor, not the root',
      change: [{ op: 'anchors', refs: ['ica1'] }],
      expect: {
        ...rejects('UNABLE_TO_GET_ISSUER_CERT', 1),
        opensslVariants: [
          {
            ...accepts(['-partial_chain']),
            why: 'RFC 5280 §6.1.1 lets any certificate be a trust anchor; OpenSSL agrees once -partial_chain is set',
          },
        ],
      },
    }),
    define(base, {
      id: 'anchors::v1-root',
      title: 'the root is an X.509 v1 certificate (no extensions)',
      change: [{ op: 'set', ref: 'root', fields: { version: 1 } }],
      expect: {
        ...rejects('INVALID_CA', 2),
        opensslVariants: [
          {
            target: 'server',
            flags: ['-purpose', 'sslserver', '-auth_level', '2'],
            verdict: { ok: true },
            why: 'without -x509_strict OpenSSL accepts a v1 trust anchor for compatibility (GnuTLS certtool does too)',
          },
        ],
      },
    }),
    define(base, {
      id: 'anchors::root-without-basic-constraints',
      title: 'the root has no BasicConstraints',
      change: [{ op: 'set', ref: 'root', fields: { basicConstraints: null } }],
      expect: rejects('INVALID_CA', 2),
    }),
    define(base, {
      id: 'anchors::root-ca-false',
      title: 'the root has BasicConstraints CA=FALSE',
      change: [{ op: 'set', ref: 'root', fields: { basicConstraints: { ca: false, critical: true } } }],
      expect: rejects('INVALID_CA', 2),
    }),
    define(base, {
      id: 'anchors::root-ku-without-keycertsign',
      title: 'the root KeyUsage lacks keyCertSign',
      change: [
        {
          op: 'set',
          ref: 'root',
          fields: { keyUsage: { usages: ['cRLSign', 'digitalSignature'], critical: true } },
        },
      ],
      expect: rejects('KEYUSAGE_NO_CERTSIGN', 2),
    }),
    define(base, {
      id: 'anchors::root-without-key-usage',
      title: 'the root has no KeyUsage',
      change: [{ op: 'set', ref: 'root', fields: { keyUsage: null } }],
      expect: rejects('CA_CERT_MISSING_KEY_USAGE', 2),
    }),
    define(base, {
      id: 'anchors::root-bc-not-critical',
      title: 'the root BasicConstraints is not marked critical',
      change: [{ op: 'set', ref: 'root', fields: { basicConstraints: { ca: true, critical: false } } }],
      expect: rejects('CA_BCONS_NOT_CRITICAL', 2),
    }),
  ];
}
