import { isIP } from 'node:net';

/** How the virtual modem's "carrier network" resolves and reaches hosts. */
export interface VirtualNetwork {
  /** Name → address; the modem never asks real DNS. */
  readonly hosts: Readonly<Record<string, string>>;
  /**
   * IP literal → where the socket really goes (a test suite's documentation addresses reach the
   * lab's loopback broker); the TLS client still sees the literal it was given.
   */
  readonly addresses?: Readonly<Record<string, string>>;
  /** Off by default: the virtual modem only reaches loopback, so tests never leave the machine. */
  readonly allowNonLoopback?: boolean;
}

export const LOOPBACK_NETWORK: VirtualNetwork = { hosts: { localhost: '127.0.0.1' } };

export function isLoopback(address: string): boolean {
  return (isIP(address) === 4 && address.startsWith('127.')) || address === '::1';
}

export type Resolution =
  | { readonly ok: true; readonly address: string }
  | { readonly ok: false; readonly reason: 'unknown-host' | 'not-loopback' };

export function resolveHost(network: VirtualNetwork, host: string): Resolution {
  const address = isIP(host) ? (network.addresses?.[host] ?? host) : network.hosts[host.toLowerCase()];
  if (address === undefined) return { ok: false, reason: 'unknown-host' };
  if (!network.allowNonLoopback && !isLoopback(address)) return { ok: false, reason: 'not-loopback' };
  return { ok: true, address };
}
