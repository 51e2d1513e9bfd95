import { isIP } from 'node:net';
import { accepts, type Base, define, rejects } from './define.ts';
import type { CatalogueEntry } from './types.ts';

/** The IP literal the IP cases dial (loopback: tests touch nothing else). */
export const IP_LITERAL = '127.0.0.1';

/** Name checks: SAN vs CN, wildcards, IP literals. Needs a DNS dialled host of three labels or more. */
export function nameEntries(base: Base): CatalogueEntry[] {
  const host = base.dialledHost;
  const labels = host.split('.');
  if (isIP(host) || labels.length < 3) {
    throw new Error(`name cases need a DNS dialled host with at least three labels, got "${host}"`);
  }
  const parent = labels.slice(1).join('.');
  const first = labels[0] ?? '';
  const other = `other.${parent}`;
  const dns = (value: string) => [{ type: 'dns' as const, value }];
  return [
    define(base, {
      id: 'names::san-mismatch',
      title: 'the SAN names another host',
      change: [{ op: 'set', ref: 'leaf', fields: { subjectAltNames: dns(other) } }],
      expect: rejects('HOSTNAME_MISMATCH', 0),
    }),
    define(base, {
      id: 'names::cn-only-no-san',
      title: 'the dialled name only in the subject CN, no SAN',
      twin: [{ op: 'set', ref: 'leaf', fields: { commonName: host } }],
      change: [{ op: 'set', ref: 'leaf', fields: { subjectAltNames: null } }],
      expect: {
        openssl: {
          ...accepts(),
          lenientBecause:
            'X509_check_host falls back to the subject CN when there is no DNS SAN (RFC 6125 §6.4.4 allows it; CABF and RFC 9525 do not)',
        },
        second: { tool: 'node-x509', check: 'hostname-without-cn-fallback' },
      },
    }),
    define(base, {
      id: 'names::cn-matches-san-does-not',
      title: 'the CN names the dialled host but the SAN names another',
      twin: [{ op: 'set', ref: 'leaf', fields: { commonName: host } }],
      change: [{ op: 'set', ref: 'leaf', fields: { subjectAltNames: dns(other) } }],
      expect: rejects('HOSTNAME_MISMATCH', 0),
    }),
    define(base, {
      id: 'names::wildcard-one-label',
      title: `SAN *.${parent} for ${host}: the wildcard covers exactly one label`,
      kind: 'control',
      change: [{ op: 'set', ref: 'leaf', fields: { subjectAltNames: dns(`*.${parent}`) } }],
      expect: { openssl: accepts() },
    }),
    define(base, {
      id: 'names::wildcard-apex',
      title: `SAN *.${parent} when dialling the apex ${parent}`,
      twin: [
        { op: 'dial', host: parent },
        { op: 'set', ref: 'leaf', fields: { subjectAltNames: dns(parent) } },
      ],
      change: [{ op: 'set', ref: 'leaf', fields: { subjectAltNames: dns(`*.${parent}`) } }],
      expect: rejects('HOSTNAME_MISMATCH', 0),
    }),
    define(base, {
      id: 'names::wildcard-two-labels',
      title: `SAN *.${parent} when dialling a.${host} (two labels below)`,
      twin: [
        { op: 'dial', host: `a.${host}` },
        { op: 'set', ref: 'leaf', fields: { subjectAltNames: dns(`a.${host}`) } },
      ],
      change: [{ op: 'set', ref: 'leaf', fields: { subjectAltNames: dns(`*.${parent}`) } }],
      expect: rejects('HOSTNAME_MISMATCH', 0),
    }),
    define(base, {
      id: 'names::wildcard-partial',
      title: `partial wildcard SAN ${first.slice(0, 1)}*.${parent} for ${host}`,
      change: [
        { op: 'set', ref: 'leaf', fields: { subjectAltNames: dns(`${first.slice(0, 1)}*.${parent}`) } },
      ],
      expect: {
        openssl: {
          ...accepts(),
          lenientBecause:
            'X509_check_host accepts partial wildcards unless X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS is set, which `openssl verify` cannot set (RFC 9525 and CABF forbid them)',
        },
        second: { tool: 'certtool', mustPrint: 'The name in the certificate does not match the expected' },
      },
    }),
    define(base, {
      id: 'names::ip-literal-ip-san',
      title: `dialling the IP literal ${IP_LITERAL}, the SAN holds it as an iPAddress`,
      kind: 'control',
      twin: [{ op: 'dial', host: IP_LITERAL }],
      change: [],
      expect: { openssl: accepts() },
    }),
    define(base, {
      id: 'names::ip-literal-dns-san',
      title: `dialling the IP literal ${IP_LITERAL}, the SAN holds it as a dNSName`,
      twin: [{ op: 'dial', host: IP_LITERAL }],
      change: [{ op: 'set', ref: 'leaf', fields: { subjectAltNames: dns(IP_LITERAL) } }],
      expect: rejects('IP_ADDRESS_MISMATCH', 0),
    }),
  ];
}
