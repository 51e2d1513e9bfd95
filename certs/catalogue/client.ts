import { type Base, CLIENT_FLAGS, define } from './define.ts';
import type { CatalogueEntry } from './types.ts';

/** Mutual TLS: the certificate the device presents, judged by the broker. */
export function clientEntries(base: Base): CatalogueEntry[] {
  const withClient: Base = { ...base, client: true };
  return [
    define(withClient, {
      id: 'client::right-ca',
      title: 'client certificate issued by the CA the server trusts',
      kind: 'control',
      change: [],
      expect: { openssl: { target: 'client', flags: [...CLIENT_FLAGS], verdict: { ok: true } } },
    }),
    define(withClient, {
      id: 'client::wrong-ca',
      title: 'client certificate issued by a CA the server does not trust',
      change: [{ op: 'set', ref: 'client', fields: { issuer: 'unrelated-root' } }],
      expect: {
        openssl: {
          target: 'client',
          flags: [...CLIENT_FLAGS],
          verdict: { ok: false, error: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', depth: 0 },
        },
      },
    }),
    define(withClient, {
      id: 'client::expired',
      title: 'client certificate expired a year before the device clock',
      change: [
        { op: 'set', ref: 'client', fields: { validity: { notBeforeDays: -730, notAfterDays: -365 } } },
      ],
      expect: {
        openssl: {
          target: 'client',
          flags: [...CLIENT_FLAGS],
          verdict: { ok: false, error: 'CERT_HAS_EXPIRED', depth: 0 },
        },
      },
    }),
  ];
}
