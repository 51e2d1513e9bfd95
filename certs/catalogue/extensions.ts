import { accepts, type Base, define, rejects } from './define.ts';
import type { CatalogueEntry } from './types.ts';

/** Extensions the verifier must honour: EKU, KU, critical extensions, name constraints, CA-ness. */
export function extensionEntries(base: Base): CatalogueEntry[] {
  const host = base.dialledHost;
  return [
    define(base, {
      id: 'extensions::eku-client-auth-only',
      title: 'the leaf EKU is clientAuth only',
      change: [{ op: 'set', ref: 'leaf', fields: { extendedKeyUsage: ['clientAuth'] } }],
      expect: rejects('INVALID_PURPOSE', 0),
    }),
    define(base, {
      id: 'extensions::leaf-ku-without-digital-signature',
      title: 'the leaf KeyUsage lacks digitalSignature (nonRepudiation only)',
      change: [
        { op: 'set', ref: 'leaf', fields: { keyUsage: { usages: ['nonRepudiation'], critical: true } } },
      ],
      expect: rejects('INVALID_PURPOSE', 0),
    }),
    ...(
      [
        ['leaf', 'leaf', 0],
        ['intermediate', 'ica1', 1],
        ['root', 'root', 2],
      ] as const
    ).map(([word, ref, depth]) =>
      define(base, {
        id: `extensions::unknown-critical-extension-${word}`,
        title: `the ${word} carries a critical extension no verifier knows`,
        change: [{ op: 'set', ref, fields: { unknownCriticalExtension: true } }],
        expect: rejects('UNHANDLED_CRITICAL_EXTENSION', depth),
      }),
    ),
    define(base, {
      id: 'extensions::name-constraints-exclude-dialled-name',
      title: `the intermediate's nameConstraints exclude ${host}`,
      // The twin carries nameConstraints too (excluding an unrelated name): a device that cannot
      // parse nameConstraints fails both, so the defect is never credited for a parse failure.
      twin: [{ op: 'set', ref: 'ica1', fields: { nameConstraints: { excludedDns: ['excluded.invalid'] } } }],
      change: [{ op: 'set', ref: 'ica1', fields: { nameConstraints: { excludedDns: [host] } } }],
      expect: rejects('EXCLUDED_VIOLATION', 0),
    }),
    define(base, {
      id: 'extensions::leaf-ca-true',
      title: 'the leaf has BasicConstraints CA=TRUE',
      change: [{ op: 'set', ref: 'leaf', fields: { basicConstraints: { ca: true, critical: true } } }],
      expect: {
        openssl: {
          ...accepts(),
          lenientBecause:
            'OpenSSL, GnuTLS certtool and Node accept a cA=TRUE end entity whose KeyUsage has no keyCertSign; the CABF BRs (7.1.2.7.8) forbid it, mbedTLS 2.28 rejects it at the TLS layer. No verifier here rejects it, so the entry is confirmed by inspection only',
        },
        second: {
          tool: 'openssl-x509-inspect',
          extension: 'basicConstraints',
          defectPrints: 'CA:TRUE',
          twinPrints: 'CA:FALSE',
        },
      },
    }),
  ];
}
