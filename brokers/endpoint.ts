import type { ConnectionObservation } from './observation.ts';

/** What every endpoint implementation is configured with. */
export interface EndpointConfig {
  /** PEM chain sent to clients, leaf first, sent exactly as given. */
  readonly chainPem: string;
  readonly keyPem: string;
  /** Loopback by default: tests never listen beyond 127.0.0.0/8. */
  readonly listenHost?: string;
  /** 0 picks a free port. */
  readonly listenPort?: number;
}

/** A started endpoint; it knows how to stop itself. */
export interface EndpointHandle {
  readonly listenHost: string;
  readonly listenPort: number;
  /** Every connection seen so far, oldest first. */
  observations(): readonly ConnectionObservation[];
  /**
   * Resolves once every connection seen has closed (or `timeoutMs` passed), so a caller reads a
   * finished record. Never rejects: an unsettled record stays `pending` and says so.
   */
  settle(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}
