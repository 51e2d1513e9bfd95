import { Duplex } from 'node:stream';

export interface ReconnectOptions {
  /** First wait before reopening; doubled after each failed attempt up to `maxDelayMs`. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /**
   * Give up when the port has not come back within this long. Covers a module reboot: after
   * AT+CFUN=1,1 a USB module re-enumerates and its tty reappears (often under another number,
   * hence /dev/serial/by-id names) some seconds later.
   */
  readonly giveUpAfterMs?: number;
}

const DEFAULTS = { initialDelayMs: 100, maxDelayMs: 2_000, giveUpAfterMs: 60_000 } as const;

/**
 * One byte stream to the device that outlives the port under it: when the port closes or fails
 * (the module reset, the USB device vanished, ser2net dropped the connection) it reopens it with
 * bounded exponential back-off, and bytes written meanwhile wait for the new port. Only when the port
 * stays away past `giveUpAfterMs` does this stream fail, so the AT engine sees a link loss only then.
 * Emits `disconnected` (reason) and `reconnected` (attempts) for the transcript.
 */
export class ReconnectingStream extends Duplex {
  readonly #open: () => Promise<Duplex>;
  readonly #opts: Required<ReconnectOptions>;
  #inner: Duplex | null = null;
  #closing = false;
  #linkWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #timer: NodeJS.Timeout | null = null;

  private constructor(inner: Duplex, open: () => Promise<Duplex>, options: ReconnectOptions) {
    super();
    this.#open = open;
    this.#opts = { ...DEFAULTS, ...options };
    this.#attach(inner);
  }

  /** Opens the first port (its failure is thrown, not retried: a wrong path should fail fast). */
  static async open(
    open: () => Promise<Duplex>,
    options: ReconnectOptions = {},
  ): Promise<ReconnectingStream> {
    return new ReconnectingStream(await open(), open, options);
  }

  /** Whether a port is attached right now. */
  get connected(): boolean {
    return this.#inner !== null;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const inner = this.#inner;
    if (inner) {
      inner.write(chunk, (err) => callback(err ?? null));
      return;
    }
    new Promise<void>((resolve, reject) => this.#linkWaiters.push({ resolve, reject })).then(
      () => this._write(chunk, _encoding, callback),
      (err: Error) => callback(err),
    );
  }

  override _read(): void {}

  override _final(callback: (error?: Error | null) => void): void {
    this.#inner?.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#closing = true;
    if (this.#timer) clearTimeout(this.#timer);
    const inner = this.#inner;
    this.#inner = null;
    inner?.destroy();
    for (const w of this.#linkWaiters.splice(0)) w.reject(error ?? new Error('stream closed'));
    callback(error);
  }

  #attach(inner: Duplex): void {
    this.#inner = inner;
    inner.on('data', (chunk: Buffer) => this.push(chunk));
    const lost = (why: string) => this.#lost(inner, why);
    inner.on('error', (err: Error) => lost(err.message));
    inner.once('end', () => lost('port ended'));
    inner.once('close', () => lost('port closed'));
    for (const w of this.#linkWaiters.splice(0)) w.resolve();
  }

  #lost(inner: Duplex, why: string): void {
    if (this.#inner !== inner || this.#closing) return;
    this.#inner = null;
    inner.destroy();
    this.emit('disconnected', why);
    void this.#reconnect(why);
  }

  async #reconnect(why: string): Promise<void> {
    const start = Date.now();
    let delay = this.#opts.initialDelayMs;
    for (let attempt = 1; !this.#closing; attempt++) {
      await new Promise<void>((resolve) => {
        this.#timer = setTimeout(resolve, delay);
      });
      if (this.#closing) return;
      try {
        const inner = await this.#open();
        if (this.#closing) {
          inner.destroy();
          return;
        }
        this.#attach(inner);
        this.emit('reconnected', attempt);
        return;
      } catch (err) {
        if (Date.now() - start + delay >= this.#opts.giveUpAfterMs) {
          this.destroy(
            new Error(
              `link lost (${why}) and not back within ${this.#opts.giveUpAfterMs} ms after ${attempt} attempts: ${(err as Error).message}`,
            ),
          );
          return;
        }
      }
      delay = Math.min(delay * 2, this.#opts.maxDelayMs);
    }
  }
}
