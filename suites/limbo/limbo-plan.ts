import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { cclkCanHold } from '../../harness/drivers/cclk.ts';
import type { LimboTestcase } from './limbo-suite.ts';

/**
 * What one limbo case asks of a device on the wire, or why it cannot be asked: a case is run only
 * when everything it constrains can be given to a modem (anchors, served chain, name, clock);
 * anything else is skipped with the reason, never run half-configured.
 */

/** The names and IP literals a lab routes to its broker; `any` for the virtual modem, which maps them all. */
export interface LimboRoutes {
  readonly names: 'any' | ReadonlySet<string>;
  readonly addresses: 'any' | ReadonlySet<string>;
}

export const ROUTE_EVERYTHING: LimboRoutes = { names: 'any', addresses: 'any' };

export interface LimboPlan {
  readonly id: string;
  /** Every `trusted_certs` entry, in order, as one PEM file: what the device is given as its anchors. */
  readonly anchorsPem: string;
  /** `peer_certificate` then `untrusted_intermediates`, exactly as listed. */
  readonly servedChainPem: string;
  readonly keyPem: string;
  /** What the device dials: the expected peer name (a DNS name or an IP literal). */
  readonly dial: string;
  readonly dialKind: 'DNS' | 'IP';
  /** The device clock for the case: `validation_time`, else now. */
  readonly clock: Date;
  readonly clockFrom: 'validation_time' | 'now';
  readonly anchorCount: number;
  readonly expected: 'SUCCESS' | 'FAILURE';
}

export type LimboPlanning = { readonly plan: LimboPlan } | { readonly skip: string };

/**
 * How near a validity boundary the case's time may be. A device clock is set to the whole second,
 * read back within a few seconds, and keeps running while the case uploads, opens and shakes hands
 * (many seconds on a real modem): a boundary that close could be crossed by the clock itself.
 */
export const CLOCK_BEHIND_S = 5;
export const CLOCK_AHEAD_S = 60;

const pemOf = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

/** A validity boundary the device's running clock could cross during the case, or null. */
export function clockBoundaryNear(pems: readonly string[], at: Date): string | null {
  const t = at.getTime();
  for (const pem of pems) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch {
      continue; // a certificate Node cannot parse has no boundary to check here; the device decides
    }
    // notAfter covers its whole last second.
    const edges: [string, number][] = [
      ['notBefore', Date.parse(cert.validFrom)],
      ['notAfter', Date.parse(cert.validTo) + 1_000],
    ];
    for (const [which, edge] of edges) {
      const ahead = (edge - t) / 1000;
      if (ahead > -CLOCK_BEHIND_S && ahead <= CLOCK_AHEAD_S) {
        const subject = cert.subject.replaceAll('\n', ', ');
        return `validation_time ${at.toISOString()} is ${Math.abs(ahead).toFixed(3)} s ${ahead >= 0 ? 'before' : 'after'} the ${which} edge of "${subject}": a device clock set to the second, read back within seconds and running during the case could cross it`;
      }
    }
  }
  return null;
}

function constraintSkip(c: LimboTestcase): string | null {
  if (c.validation_kind !== 'SERVER')
    return 'a CLIENT case: a modem validates the servers it dials, not clients';
  if (!c.peer_certificate_key)
    return 'no peer_certificate_key: a TLS server cannot present this certificate without its private key';
  if (c.crls && c.crls.length > 0)
    return `${c.crls.length} CRL(s) given: a modem cannot be given a CRL over AT`;
  if (c.signature_algorithms && c.signature_algorithms.length > 0)
    return `signature_algorithms ${c.signature_algorithms.join(', ')}: no modem setting restricts them`;
  if (c.key_usage && c.key_usage.length > 0)
    return `key_usage ${c.key_usage.join(', ')}: a modem's TLS client asks for no key usage of its own choosing`;
  const eku = c.extended_key_usage ?? [];
  if (eku.some((e) => e !== 'serverAuth'))
    return `extended_key_usage ${eku.join(', ')}: a modem's TLS client asks for serverAuth only`;
  // A bound no path through the given certificates can reach constrains nothing.
  const depth = c.max_chain_depth;
  if (depth !== null && depth !== undefined && c.untrusted_intermediates.length > depth)
    return `max_chain_depth ${depth} with ${c.untrusted_intermediates.length} intermediates given: a modem's chain depth limit cannot be set`;
  if (!c.expected_peer_name)
    return 'no expected_peer_name: limbo validates without a name, but a modem checks the name it dials';
  if (c.expected_peer_name.kind === 'RFC822')
    return 'an RFC822 (e-mail) peer name: a modem dials a host name or an address';
  const others = c.expected_peer_names.filter(
    (n) => n.kind !== c.expected_peer_name?.kind || n.value !== c.expected_peer_name?.value,
  );
  if (others.length > 0) return `${others.length + 1} expected peer names: a connection dials one`;
  return null;
}

function routeSkip(kind: 'DNS' | 'IP', value: string, routes: LimboRoutes): string | null {
  const routed = kind === 'DNS' ? routes.names : routes.addresses;
  if (routed === 'any' || routed.has(kind === 'DNS' ? value.toLowerCase() : value)) return null;
  return `the lab declares no route from ${kind === 'DNS' ? 'the name' : 'the address'} ${value} to its broker (add it to the routes file given with --routes)`;
}

/** The case as a device can be given it, or why it cannot. `now` stands in for an absent validation_time. */
export function planLimboCase(c: LimboTestcase, routes: LimboRoutes, now: Date = new Date()): LimboPlanning {
  const constraint = constraintSkip(c);
  if (constraint) return { skip: constraint };
  const name = c.expected_peer_name as { kind: 'DNS' | 'IP'; value: string };
  if (name.kind === 'IP' && isIP(name.value) === 0)
    return { skip: `peer address ${name.value} is not an IP literal` };
  const route = routeSkip(name.kind, name.value, routes);
  if (route) return { skip: route };
  const clock = c.validation_time ? new Date(c.validation_time) : now;
  if (!cclkCanHold(clock))
    return {
      skip: `validation_time ${clock.toISOString()}: a modem clock (AT+CCLK) holds the years 2000–2099 only`,
    };
  const pems = [...c.trusted_certs, ...c.untrusted_intermediates, c.peer_certificate];
  if (c.validation_time) {
    const near = clockBoundaryNear(pems, clock);
    if (near) return { skip: near };
  }
  return {
    plan: {
      id: c.id,
      anchorsPem: c.trusted_certs.map(pemOf).join(''),
      servedChainPem: [c.peer_certificate, ...c.untrusted_intermediates].map(pemOf).join(''),
      keyPem: pemOf(c.peer_certificate_key as string),
      dial: name.value,
      dialKind: name.kind,
      clock,
      clockFrom: c.validation_time ? 'validation_time' : 'now',
      anchorCount: c.trusted_certs.length,
      expected: c.expected_result,
    },
  };
}
