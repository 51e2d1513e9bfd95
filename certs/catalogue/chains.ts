import type { CertSpec } from '../pki-spec.ts';
import type { SpecChange } from './change.ts';
import { accepts, type Base, define, rejects } from './define.ts';
import type { CatalogueEntry } from './types.ts';

/** Changes that lengthen the standard root → ica1 → leaf chain to `count` intermediates. */
export function intermediates(count: number): SpecChange[] {
  const changes: SpecChange[] = [];
  for (let i = 2; i <= count; i++) {
    const cert: CertSpec = { ref: `ica${i}`, role: 'intermediate', issuer: `ica${i - 1}` };
    changes.push({ op: 'add', cert });
  }
  const served = ['leaf'];
  for (let i = count; i >= 1; i--) served.push(`ica${i}`);
  changes.push({ op: 'set', ref: 'leaf', fields: { issuer: `ica${count}` } }, { op: 'served', refs: served });
  return changes;
}

/** How the chain is built and sent: depth, order, omissions, extras, CA-ness of intermediates. */
export function chainEntries(base: Base): CatalogueEntry[] {
  const depth: CatalogueEntry[] = [];
  for (let n = 2; n <= 8; n++) {
    depth.push(
      define(base, {
        id: `chains::intermediates-${n}`,
        title: `${n} intermediates between root and leaf, all sent`,
        kind: 'control',
        change: intermediates(n),
        expect: { openssl: accepts() },
      }),
    );
  }
  return [
    define(base, {
      id: 'chains::intermediates-1',
      title: 'one intermediate between root and leaf, sent (the default shape)',
      kind: 'control',
      change: [],
      expect: { openssl: accepts() },
    }),
    ...depth,
    define(base, {
      id: 'chains::intermediate-not-sent',
      title: 'the server sends only the leaf; the intermediate is missing',
      change: [{ op: 'served', refs: ['leaf'] }],
      expect: rejects('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 0),
    }),
    define(base, {
      id: 'chains::reverse-order',
      title: 'intermediates sent in reverse order (root-most first after the leaf)',
      twin: intermediates(2),
      change: [{ op: 'served', refs: ['leaf', 'ica1', 'ica2'] }],
      expect: {
        openssl: {
          ...accepts(),
          lenientBecause:
            'OpenSSL builds the path from the untrusted set whatever the order; TLS 1.3 (RFC 8446 §4.4.2) allows any order after the leaf, TLS 1.2 (RFC 5246 §7.4.2) does not',
        },
        second: { tool: 'node-x509', check: 'served-chain-order' },
      },
    }),
    define(base, {
      id: 'chains::extra-unrelated-cert',
      title: 'an unrelated root sent between the leaf and its intermediate',
      change: [{ op: 'served', refs: ['leaf', 'unrelated-root', 'ica1'] }],
      expect: {
        openssl: {
          ...accepts(),
          lenientBecause:
            'OpenSSL ignores untrusted certificates it cannot use; RFC 8446 §4.4.2 allows extras, RFC 5246 §7.4.2 requires each certificate to certify the one before',
        },
        second: { tool: 'node-x509', check: 'served-chain-order' },
      },
    }),
    define(base, {
      id: 'chains::pathlen-exceeded',
      title: 'ica1 has pathLenConstraint 0 but issues another intermediate',
      twin: [
        ...intermediates(2),
        { op: 'set', ref: 'ica1', fields: { basicConstraints: { ca: true, pathLength: 1, critical: true } } },
      ],
      change: [
        { op: 'set', ref: 'ica1', fields: { basicConstraints: { ca: true, pathLength: 0, critical: true } } },
      ],
      expect: rejects('PATH_LENGTH_EXCEEDED', 2),
    }),
    define(base, {
      id: 'chains::intermediate-without-basic-constraints',
      title: 'the intermediate has no BasicConstraints',
      change: [{ op: 'set', ref: 'ica1', fields: { basicConstraints: null } }],
      expect: rejects('INVALID_CA', 1),
    }),
    define(base, {
      id: 'chains::intermediate-ca-false',
      title: 'the intermediate has BasicConstraints CA=FALSE',
      change: [{ op: 'set', ref: 'ica1', fields: { basicConstraints: { ca: false, critical: true } } }],
      expect: rejects('INVALID_CA', 1),
    }),
    define(base, {
      id: 'chains::cross-signed-intermediate',
      title:
        'the server also sends the root cross-signed by an untrusted root (two paths: via the cross-signed copy, dead; via the uploaded root, valid)',
      kind: 'control',
      change: [
        {
          op: 'add',
          cert: {
            ref: 'root-cross',
            role: 'intermediate',
            issuer: 'unrelated-root',
            keySlot: 'root',
            commonName: 'TrustLab Root',
          },
        },
        { op: 'served', refs: ['leaf', 'ica1', 'root-cross'] },
      ],
      expect: { openssl: accepts() },
    }),
    ...fieldTrustPaths(base),
  ];
}

/** The root cross-signed by another root, served after ica1: the shape root migrations leave behind. */
const rootCrossSignedBy = (issuer: string, fields: Partial<CertSpec> = {}): SpecChange => ({
  op: 'add',
  cert: {
    ref: 'root-cross',
    role: 'intermediate',
    issuer,
    keySlot: 'root',
    commonName: 'TrustLab Root',
    ...fields,
  },
});

/** Trust paths seen in the field: root migrations, weak or expired certificates above the anchor. */
function fieldTrustPaths(base: Base): CatalogueEntry[] {
  const served: SpecChange = { op: 'served', refs: ['leaf', 'ica1', 'root-cross'] };
  return [
    define(base, {
      id: 'chains::cross-signed-root-old-anchor',
      title:
        'root migration: the new root, cross-signed by the old one, is served above ica1; only the old root is uploaded',
      kind: 'control',
      change: [
        {
          op: 'add',
          cert: { ref: 'old-root', role: 'root', issuer: 'old-root', commonName: 'TrustLab Old Root' },
        },
        rootCrossSignedBy('old-root'),
        served,
        { op: 'anchors', refs: ['old-root'] },
      ],
      expect: { openssl: accepts() },
    }),
    define(base, {
      id: 'chains::sha1-cert-above-anchor',
      title:
        'the uploaded root is also served cross-signed with ECDSA-SHA1 by an untrusted root (above the trust anchor)',
      kind: 'control',
      change: [rootCrossSignedBy('unrelated-root', { hash: 'SHA-1' }), served],
      expect: { openssl: accepts() },
    }),
    define(base, {
      id: 'chains::expired-cross-sign-beside-valid',
      title: 'an expired cross-signed copy of the uploaded root is served beside the valid path',
      kind: 'control',
      change: [
        rootCrossSignedBy('unrelated-root', { validity: { notBeforeDays: -3650, notAfterDays: -30 } }),
        served,
      ],
      expect: { openssl: accepts() },
    }),
  ];
}
