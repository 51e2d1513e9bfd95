import type { EngineAvailability, TlsEngineId, TlsHandshakeRequest } from './engine.ts';
import { TLS_ENGINES } from './engines.ts';

/** Which engines run on this machine, and why not where one does not (tests skip with it). */
export async function engineAvailability(): Promise<Record<TlsEngineId, EngineAvailability>> {
  return Object.fromEntries(
    await Promise.all(Object.values(TLS_ENGINES).map(async (e) => [e.id, await e.available()] as const)),
  ) as Record<TlsEngineId, EngineAvailability>;
}

/** A verifying handshake request to a loopback server for `host`, TLS 1.2–1.3, the rest as overridden. */
export function handshakeRequest(
  port: number,
  host: string,
  anchorsPem: string | null,
  overrides: Partial<TlsHandshakeRequest> = {},
): TlsHandshakeRequest {
  return {
    address: '127.0.0.1',
    port,
    anchorsPem,
    verify: true,
    sni: host,
    checkName: host,
    nameRules: 'stack',
    versions: { min: 'TLSv1.2', max: 'TLSv1.3' },
    cipherSuites: null,
    deviceTime: null,
    ignoreValidity: false,
    ignoreChainAboveLeaf: false,
    ignoreSignatureProfile: false,
    timeoutMs: 10_000,
    ...overrides,
  };
}
