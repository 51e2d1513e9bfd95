import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FaultPlan } from './faults.ts';
import { type LatencyClock, sleep } from './latency.ts';
import { resolveHost, type VirtualNetwork } from './network.ts';
import type { TrustPersonality } from './personality.ts';
import { type LimitRelay, limitReason, type ReceiveLimits, startLimitRelay } from './receive-limit.ts';
import type { TlsEngine, TlsEngineId, TlsHandshakeRequest } from './tls/engine.ts';
import type { TlsSessionCache } from './tls-sessions.ts';

/** One TLS handshake the modem made, for the record: which engine answered and what it said. */
export interface TlsAttempt {
  readonly at: string;
  readonly host: string;
  readonly port: number;
  readonly engine: TlsEngineId;
  /** Why this engine (e.g. "node (auto; mbedtls unavailable: …)"). */
  readonly engineNote: string;
  readonly accepted: boolean;
  readonly version: string | null;
  readonly cipher: string | null;
  readonly reason: string | null;
  readonly verifyFlags: number | null;
  readonly sni: string | null;
  readonly checkName: string | null;
  readonly verify: boolean;
  /** Request fields the engine could not honour. */
  readonly unsupported: readonly string[];
}

/**
 * What the modem's TLS client was configured with when it dialled: the handshake request its
 * settings, files and clock made (where it went left out). For checking that two ways of
 * configuring the device give the same client, never part of a record.
 */
export interface TlsRequestSeen {
  readonly host: string;
  readonly request: Omit<TlsHandshakeRequest, 'address' | 'port'>;
}

/** What every virtual modem shares: its network, clock of costs, faults, trust and TLS stack. */
export interface ModemEnvironment {
  readonly network: VirtualNetwork;
  readonly latency: LatencyClock;
  readonly faults: FaultPlan;
  readonly personality: TrustPersonality;
  readonly engine: TlsEngine;
  /** Which engine answers and why; known once the engine was chosen. */
  engineNote(): string;
  readonly tlsLog: TlsAttempt[];
  readonly tlsRequests: TlsRequestSeen[];
  /** What the modem's TLS receive path holds, when the model limits it; absent holds anything. */
  readonly receiveLimits?: ReceiveLimits;
  /** Sessions kept between connections, offered again to the same server (empty after a restart). */
  readonly sessions: TlsSessionCache;
}

export type DialResult =
  | { readonly ok: true; readonly stream: Duplex }
  | {
      readonly ok: false;
      readonly stage: 'dns' | 'tcp' | 'tls' | 'refused';
      readonly reason: string;
      /** The server's chain overflowed the modelled receive limit. */
      readonly overLimit?: boolean;
    };

/** Resolves through the hosts map, then opens TCP (plain) or TLS (through the engine). */
export async function dial(
  env: ModemEnvironment,
  host: string,
  port: number,
  /** The TLS request for the resolved address; null dials plain TCP. */
  tlsFor: (address: string) => TlsHandshakeRequest | { readonly refused: string } | null,
): Promise<DialResult> {
  const resolved = resolveHost(env.network, host);
  if (!resolved.ok) return { ok: false, stage: 'dns', reason: resolved.reason };
  const request = tlsFor(resolved.address);
  await sleep(env.latency.roundTrips(1)); // TCP connect
  if (request === null) {
    const socket = await new Promise<Duplex | null>((resolve) => {
      const s = tcpConnect({ host: resolved.address, port }, () => resolve(s));
      s.once('error', () => resolve(null));
    });
    return socket ? { ok: true, stream: socket } : { ok: false, stage: 'tcp', reason: 'connection failed' };
  }
  if ('refused' in request) return { ok: false, stage: 'refused', reason: request.refused };
  const { address: _address, port: _port, ...configured } = request;
  env.tlsRequests.push({ host, request: configured });
  const limits = env.receiveLimits;
  const relay: LimitRelay | null = limits ? await startLimitRelay(request, limits) : null;
  const trust = JSON.stringify([request.anchorsPem, request.verify, request.checkName, request.nameRules]);
  const sessionFile = env.sessions.fileFor(request.address, request.port, request.sni, trust);
  const r = await env.engine.handshake({
    ...request,
    ...(relay ? { address: '127.0.0.1', port: relay.port } : {}),
    ...(sessionFile ? { sessionFile } : {}),
  });
  const over = relay?.outcome();
  const unsupported =
    relay && r.ok && !over
      ? [...r.unsupported, 'receiveLimits (the Certificate message was not readable: TLS 1.3 encrypts it)']
      : r.unsupported;
  const reason = r.ok
    ? null
    : over?.exceeded && limits
      ? `${limitReason(over, limits)}; the stack said: ${r.reason}`
      : r.reason;
  if (!r.ok) relay?.close();
  await sleep(env.latency.tlsHandshake());
  env.tlsLog.push({
    at: new Date().toISOString(),
    host,
    port,
    engine: r.engine,
    engineNote: env.engineNote(),
    accepted: r.ok,
    version: r.ok ? r.version : null,
    cipher: r.ok ? r.cipher : null,
    reason,
    verifyFlags: !r.ok && r.verifyFlags !== undefined ? r.verifyFlags : null,
    sni: request.sni,
    checkName: request.checkName,
    verify: request.verify,
    unsupported,
  });
  if (r.ok) return { ok: true, stream: r.stream };
  return {
    ok: false,
    stage: r.stage === 'connect' ? 'tcp' : 'tls',
    reason: reason ?? r.reason,
    ...(over?.exceeded ? { overLimit: true } : {}),
  };
}
