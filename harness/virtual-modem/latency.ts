/**
 * What a real modem costs in time, so benchmarks can tell harness time from modem-inherent time.
 * Zero everywhere by default: tests run at full speed.
 */
export interface LatencyModel {
  /** Serial line speed; every byte in and out costs 10 bit times (8N1). 0 or absent: no cost. */
  readonly baudRate?: number;
  /** Processing time of one AT command before its answer starts. */
  readonly commandMs?: number;
  /** Round trip to the server: one for TCP connect, one per MQTT request/answer. */
  readonly networkRttMs?: number;
  /** Round trips a TLS handshake costs (TLS 1.2 full handshake: 2). */
  readonly tlsRoundTrips?: number;
  /**
   * How long each network connection stays open after the module has reported it closed, taken in
   * turn per connection (`[1500, 0]`: late closes, and out of order); as real modules and NATs do.
   */
  readonly closeLagMs?: readonly number[];
}

export const ZERO_LATENCY: LatencyModel = {};

/** The modelled time a session spent in the modem, by where it went. */
export interface DeviceTimeReport {
  readonly serialMs: number;
  readonly processingMs: number;
  readonly networkMs: number;
  readonly totalMs: number;
}

/** Accumulates modelled time and says how long to wait for each cost. */
export class LatencyClock {
  readonly #model: LatencyModel;
  #serialMs = 0;
  #processingMs = 0;
  #networkMs = 0;
  #closes = 0;

  constructor(model: LatencyModel = ZERO_LATENCY) {
    this.#model = model;
  }

  get zero(): boolean {
    const m = this.#model;
    return !m.baudRate && !m.commandMs && !m.networkRttMs;
  }

  /** Time `bytes` take on the serial line. */
  serial(bytes: number): number {
    const ms = this.#model.baudRate ? (bytes * 10 * 1000) / this.#model.baudRate : 0;
    this.#serialMs += ms;
    return ms;
  }

  command(): number {
    const ms = this.#model.commandMs ?? 0;
    this.#processingMs += ms;
    return ms;
  }

  roundTrips(n: number): number {
    const ms = (this.#model.networkRttMs ?? 0) * n;
    this.#networkMs += ms;
    return ms;
  }

  tlsHandshake(): number {
    return this.roundTrips(this.#model.tlsRoundTrips ?? 2);
  }

  /** The close lag of the next connection (see `closeLagMs`). */
  closeLag(): number {
    const lags = this.#model.closeLagMs ?? [];
    return lags.length === 0 ? 0 : (lags[this.#closes++ % lags.length] ?? 0);
  }

  report(): DeviceTimeReport {
    return {
      serialMs: this.#serialMs,
      processingMs: this.#processingMs,
      networkMs: this.#networkMs,
      totalMs: this.#serialMs + this.#processingMs + this.#networkMs,
    };
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : r()));
