import type { Duplex } from 'node:stream';
import type { FaultPlan } from './faults.ts';
import { type LatencyClock, sleep } from './latency.ts';

/** What a dialect provides to the port: command handling and the two faults that need its state. */
export interface Dialect {
  /** Handles one command line (without CR); answers through the port. */
  dispatch(line: string): void;
  /** Restart: lose volatile state, keep files, say RDY (or the dialect's boot banner). */
  reboot(reason: 'command' | 'fault'): void;
  /** The network dropped the data connection: close sessions, report it the dialect's way. */
  pdpDeactivate(): void;
  /** A restart nobody is told of: volatile TLS settings back to defaults, no banner (silent-reset fault). */
  silentReset(): void;
}

interface DataSink {
  remaining: number;
  /** Bytes still accepted before the line "loses" the rest (truncate-upload fault). */
  keep: number;
  readonly chunks: Buffer[];
  readonly done: (data: Buffer, complete: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The byte side of a modem's AT port, shared by every dialect: line assembly, echo, raw data
 * phases, URCs, serial and processing latency, and the injected faults that act on bytes.
 */
export class AtPort {
  readonly #io: Duplex;
  readonly #latency: LatencyClock;
  readonly #faults: FaultPlan;
  #dialect: Dialect | null = null;
  #line = '';
  #sink: DataSink | null = null;
  #queue: string[] = [];
  #busy = false;
  #offlineUntil = 0;
  #outputFreeAt = 0;
  #outbox: { readonly bytes: Buffer; readonly dueAt: number }[] = [];
  #outboxTimer: NodeJS.Timeout | null = null;
  #truncateNext: number | null = null;
  echo = true;
  /** CR and LF inside double quotes belong to the line (nRF91: PEM in AT%CMNG spans lines). */
  quotedNewlines = false;
  #inQuotes = false;

  constructor(io: Duplex, latency: LatencyClock, faults: FaultPlan) {
    this.#io = io;
    this.#latency = latency;
    this.#faults = faults;
    io.on('data', (chunk: Buffer) => this.#onData(chunk));
    io.on('error', () => {});
  }

  attach(dialect: Dialect): void {
    this.#dialect = dialect;
  }

  get closed(): boolean {
    return this.#io.destroyed;
  }

  /**
   * Bytes go out at the modelled baud rate, in order. One FIFO drained by one timer: separate
   * timers per chunk reordered output under load (Node rounds sub-millisecond delays up to 1 ms,
   * so a later short chunk could fire before an earlier long one).
   */
  write(text: string | Buffer): void {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
    const start = Math.max(Date.now(), this.#outputFreeAt);
    this.#outputFreeAt = start + this.#latency.serial(bytes.length);
    this.#outbox.push({ bytes, dueAt: this.#outputFreeAt });
    this.#flushOutbox();
  }

  #flushOutbox(): void {
    if (this.#outboxTimer !== null) return; // the pending timer drains the rest in order
    const now = Date.now();
    let head = this.#outbox[0];
    while (head !== undefined && head.dueAt <= now) {
      this.#outbox.shift();
      if (!this.#io.destroyed) this.#io.write(head.bytes);
      head = this.#outbox[0];
    }
    if (head === undefined) return;
    this.#outboxTimer = setTimeout(
      () => {
        this.#outboxTimer = null;
        this.#flushOutbox();
      },
      Math.max(1, Math.ceil(head.dueAt - now)),
    );
  }

  urc(line: string): void {
    if (this.#faults.losesUrc(line)) return;
    this.write(`\r\n${line}\r\n`);
  }

  respond(lines: readonly string[], final = 'OK'): void {
    for (const l of lines) this.write(`\r\n${l}\r\n`);
    this.write(`\r\n${final}\r\n`);
  }

  /** The module is off for `ms`: input is lost, as on a rebooting module. */
  goOffline(ms: number): void {
    this.#offlineUntil = Date.now() + ms;
    this.#line = '';
    this.#inQuotes = false;
    this.#queue = [];
    this.cancelCollect();
  }

  /**
   * Booted: input is taken again from now. Called before the boot banner, since a boot timer can
   * fire a millisecond before the offline deadline by the wall clock, and a host answering the
   * banner at once must not lose its command.
   */
  goOnline(): void {
    this.#offlineUntil = 0;
  }

  cancelCollect(): void {
    if (this.#sink) clearTimeout(this.#sink.timer);
    this.#sink = null;
  }

  /** Takes exactly `size` raw bytes after a prompt, or what arrived before the timeout. */
  collect(size: number, timeoutMs: number, done: (data: Buffer, complete: boolean) => void): void {
    const keep = this.#truncateNext ?? size;
    this.#truncateNext = null;
    const sink: DataSink = {
      remaining: size,
      keep,
      chunks: [],
      done,
      timer: setTimeout(() => {
        if (this.#sink !== sink) return;
        this.#sink = null;
        done(Buffer.concat(sink.chunks), false);
      }, timeoutMs),
    };
    this.#sink = sink;
  }

  #onData(chunk: Buffer): void {
    this.#latency.serial(chunk.length);
    if (Date.now() < this.#offlineUntil) return;
    let offset = 0;
    while (offset < chunk.length) {
      const sink = this.#sink;
      if (sink) {
        // After a truncation the line is lost: nothing more arrives until the module times out.
        if (sink.keep <= 0) return;
        const take = chunk.subarray(offset, offset + Math.min(sink.remaining, sink.keep));
        offset += take.length;
        sink.keep -= take.length;
        sink.remaining -= take.length;
        sink.chunks.push(Buffer.from(take));
        if (sink.remaining === 0) {
          clearTimeout(sink.timer);
          this.#sink = null;
          sink.done(Buffer.concat(sink.chunks), true);
        }
        continue;
      }
      const c = String.fromCharCode(chunk[offset] ?? 0);
      offset++;
      if (this.quotedNewlines) {
        if (c === '"') this.#inQuotes = !this.#inQuotes;
        if (this.#inQuotes && (c === '\r' || c === '\n')) {
          this.#line += c;
          continue;
        }
      }
      if (c === '\n') continue;
      if (c !== '\r') {
        this.#line += c;
        continue;
      }
      const line = this.#line;
      this.#line = '';
      if (this.echo) this.write(`${line}\r`);
      if (line.trim() !== '') this.#enqueue(line.trim());
    }
  }

  #enqueue(line: string): void {
    this.#queue.push(line);
    if (!this.#busy) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    while (this.#queue.length > 0) {
      const line = this.#queue.shift() as string;
      const f = this.#faults.forCommand(line);
      const wait = this.#latency.command() + f.delayMs;
      if (wait > 0) await sleep(wait);
      if (f.garbage !== null) this.write(f.garbage);
      if (f.truncateUploadAt !== null) this.#truncateNext = f.truncateUploadAt;
      if (f.reboot) {
        this.#dialect?.reboot('fault');
        continue;
      }
      if (f.refuse !== null) {
        this.respond([], f.refuse);
        continue;
      }
      if (f.silentReset) this.#dialect?.silentReset();
      this.#dialect?.dispatch(line);
      if (f.pdpDeactivate) this.#dialect?.pdpDeactivate();
    }
    this.#busy = false;
  }
}
