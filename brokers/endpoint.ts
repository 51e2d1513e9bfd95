import type { ConnectionObservation, EngineName } from './observation.ts';
import type { ServerHelloTamper } from './server-hello-tamper.ts';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** Mutual TLS: the endpoint asks every client for a certificate issued by `caPem`. */
export interface ClientAuthConfig {
  readonly caPem: string;
  /** true: a client without a valid certificate does not get through. false: asked, recorded, let in. */
  readonly required: boolean;
}

/**
 * AWS IoT-style routing by SNI: a client whose SNI is `hostname` gets the configured chain; any other
 * SNI, or none, still completes the handshake with the default chain, and the broker closes the
 * connection when the MQTT CONNECT arrives.
 */
export interface SniRoutingConfig {
  readonly hostname: string;
  /** Chain and key served to clients that did not ask for `hostname`; the main chain when omitted. */
  readonly defaultChainPem?: string;
  readonly defaultKeyPem?: string;
  /** Let a client that sent no SNI at all through (AWS accepted this for old nRF9160 firmware). */
  readonly allowMissingSni?: boolean;
}

/** What every endpoint implementation is configured with: one model, engines declare what they support. */
export interface EndpointConfig {
  /** PEM chain sent to clients, leaf first, sent exactly as given (order, gaps and extras kept). */
  readonly chainPem: string;
  readonly keyPem: string;
  /** Loopback by default: tests never listen beyond 127.0.0.0/8. */
  readonly listenHost?: string;
  /** 0 picks a free port. */
  readonly listenPort?: number;
  /** Ports to try in order (a lab's firewall opening); the first free one wins. */
  readonly listenPortPool?: readonly number[];
  /** What the device dials when it reaches the lab through a public IP, NAT or tunnel. */
  readonly advertisedHost?: string;
  readonly advertisedPort?: number;
  /** Lowest and highest TLS version offered; set both to the same value for "only". */
  readonly minTlsVersion?: TlsVersion;
  readonly maxTlsVersion?: TlsVersion;
  /** OpenSSL cipher list for TLS ≤ 1.2 (e.g. 'ECDHE-ECDSA-AES128-GCM-SHA256'). */
  readonly ciphers?: string;
  /** TLS 1.3 suites, colon-separated (e.g. 'TLS_AES_128_GCM_SHA256'). */
  readonly tls13Ciphersuites?: string;
  /**
   * OpenSSL security level. Unset: the engine's default, lowered to 0 where the served chain or the
   * TLS version needs it (SHA-1, small keys, TLS 1.0/1.1), and a note says so.
   */
  readonly securityLevel?: number;
  readonly clientAuth?: ClientAuthConfig;
  readonly sniRouting?: SniRoutingConfig;
  /** Serve the handshake in records of at most this many bytes (mbedTLS < 3.6.3 cannot reassemble). */
  readonly handshakeFragment?: 512 | 1024 | 2048 | 4096;
  /** Change the ServerHello on its way to the client (the observing front does it, for every engine). */
  readonly serverHelloTamper?: ServerHelloTamper;
}

/** A started endpoint; it knows how to stop itself. */
export interface EndpointHandle {
  readonly listenHost: string;
  readonly listenPort: number;
  /** Which implementation serves; absent only on handles from older code. */
  readonly engine?: EngineName;
  /** Where a device should dial: the advertised address when configured, else the listen address. */
  readonly advertisedHost?: string;
  readonly advertisedPort?: number;
  /** What the endpoint adjusted or cannot do for this config (e.g. security level lowered). */
  readonly notes?: readonly string[];
  /** Every connection seen so far, oldest first. */
  observations(): readonly ConnectionObservation[];
  /**
   * Resolves once every connection seen has closed (or `timeoutMs` passed), so a caller reads a
   * finished record. Never rejects: an unsettled record stays `pending` and says so.
   */
  settle(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** An endpoint that can open more doors onto the same server (the suite's per-case endpoint). */
export interface SharedEndpointHandle extends EndpointHandle {
  /**
   * Another listening port (free, on the listen host) onto the same engine: same TLS server, same
   * chain and key, same broker. Its connections are observed apart, so reference clients can run
   * there while a device uses the main port. Stopping the door leaves the endpoint up; stopping
   * the endpoint closes every door.
   */
  listenAgain(): Promise<EndpointHandle>;
  /**
   * From the next connection on, serves this chain and key instead, on every door, keeping the
   * TLS session state (ticket keys): a client may resume a session made under the earlier chain.
   */
  serveChain(chainPem: string, keyPem: string): void;
}

/** The engine cannot honour this config; the message says what and why. Tests skip with it. */
export class EndpointUnsupportedError extends Error {
  constructor(
    readonly engine: EngineName,
    what: string,
  ) {
    super(`${engine} cannot ${what}`);
    this.name = 'EndpointUnsupportedError';
  }
}

export const TLS_VERSION_ORDER: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Where an engine's observing front listens: loopback and a free port unless the config says otherwise. */
export function frontListen(config: EndpointConfig) {
  return {
    host: config.listenHost ?? '127.0.0.1',
    port: config.listenPort ?? 0,
    portPool: config.listenPortPool,
  };
}

/** Listen/advertise fields every engine resolves the same way. */
export function resolveAddresses(config: EndpointConfig, listenPort: number) {
  const listenHost = frontListen(config).host;
  return {
    listenHost,
    listenPort,
    advertisedHost: config.advertisedHost ?? listenHost,
    advertisedPort: config.advertisedPort ?? listenPort,
  };
}
