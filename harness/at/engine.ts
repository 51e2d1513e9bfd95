import type { Duplex } from 'node:stream';
import {
  AtCommandError,
  AtDesyncError,
  AtLinkError,
  AtRestartError,
  AtTimeoutError,
  AtUnexpectedUrcError,
} from './errors.ts';
import type { Transcript } from './transcript.ts';

export interface AtResponse {
  readonly command: string;
  /** The final result code line exactly as received: OK, ERROR, +CME ERROR: <n>, +CMS ERROR: <n>. */
  readonly final: string;
  readonly ok: boolean;
  /** Information lines of this command, in order. */
  readonly lines: string[];
  /** Raw bytes announced by an information line (see `rawDataAfter`), e.g. the data of AT+QSSLRECV. */
  readonly data?: Buffer;
}

export interface CommandOptions {
  /** The vendor's maximum response time for this command. */
  readonly timeoutMs?: number;
  /**
   * Further lines that end this command, and whether each means success; e.g. AT+QSSLSEND ends in
   * `SEND OK` or `SEND FAIL`.
   */
  readonly extraFinals?: Readonly<Record<string, boolean>>;
  /**
   * An information line announcing raw bytes: group 1 is the byte count, and exactly that many bytes
   * after the line's end are taken verbatim (they may contain CR, LF or anything else), e.g.
   * `/^\+QSSLRECV: (\d+)$/`.
   */
  readonly rawDataAfter?: RegExp;
  /** The command restarts the module (AT+CFUN=1,1, AT#XRESET): a boot notice does not end it. */
  readonly restarts?: boolean;
  /**
   * `commandOk` only: send the same command again this many times when the device answers an error
   * (never after silence). For idempotent reads, sets and restores, never for an open or connect
   * whose refusal is what the case observes.
   */
  readonly retries?: number;
}

/** Refusals of an idempotent command tried again before the device counts as staying wrong. */
export const TRANSIENT_RETRIES = 2;

export interface DataCommandOptions extends CommandOptions {
  /** What the device sends when it is ready for the payload. */
  readonly prompt: 'CONNECT' | '>';
}

export interface UrcWaitOptions {
  readonly timeoutMs: number;
  /** A URC that ends the wait with an error, e.g. +QMTSTAT while waiting for +QMTCONN. */
  readonly failOn?: RegExp;
}

export interface AtEngineOptions {
  readonly transcript: Transcript;
  readonly defaultTimeoutMs?: number;
  /** Line starts that are always unsolicited unless they answer the command in progress. */
  readonly urcPrefixes?: readonly string[];
  /**
   * URC prefixes whose write command answers only after OK, as a URC (`AT+QMTOPEN=…` → OK, then
   * `+QMTOPEN: 1,0`): such a line never answers the write form, only its read or test form.
   */
  readonly resultAfterOk?: readonly string[];
  /**
   * After a command timed out: how long the next command waits for the late answer, and then for
   * the answer to the `AT` probe sent to get back in step. Default: 2 × defaultTimeoutMs, at least 1 s.
   */
  readonly resyncTimeoutMs?: number;
  /** After the probe's answer: how long to watch for one more final result before trusting the link. */
  readonly resyncSettleMs?: number;
  /** Lines by which a module announces it (re)started; they end every pending command and wait at once. */
  readonly restartNotice?: RegExp;
}

/**
 * What one AT dialect adds to the engine: its URCs, the writes whose result comes as a URC after OK,
 * and the banner by which a module announces it (re)started. Each family declares its own in its
 * driver folder; a driver hands it to the engine it is built on (`speak`).
 */
export interface AtDialect {
  /** Line starts that are always unsolicited unless they answer the command in progress. */
  readonly urcPrefixes: readonly string[];
  /** URC prefixes whose write command answers only after OK. */
  readonly resultAfterOk?: readonly string[];
  /** Lines by which a module announces it (re)started. */
  readonly restartNotice?: RegExp;
}

/** 3GPP TS 27.007 unsolicited results every module may send, whatever its dialect. */
export const GENERIC_URC_PREFIXES = ['+CPIN:', '+CREG:', '+CEREG:', '+CGEV:', '+CSCON:'] as const;

/** Engine options that speak these dialects from the first byte (a raw engine with no driver yet). */
export function dialectOptions(
  ...dialects: readonly AtDialect[]
): Pick<AtEngineOptions, 'urcPrefixes' | 'resultAfterOk' | 'restartNotice'> {
  const notices = dialects.flatMap((d) => (d.restartNotice ? [d.restartNotice.source] : []));
  return {
    urcPrefixes: [...new Set([...GENERIC_URC_PREFIXES, ...dialects.flatMap((d) => d.urcPrefixes)])],
    resultAfterOk: [...new Set(dialects.flatMap((d) => d.resultAfterOk ?? []))],
    ...(notices.length > 0 ? { restartNotice: new RegExp(notices.map((n) => `(?:${n})`).join('|')) } : {}),
  };
}

const FINAL_RESULT = /^(OK|ERROR|NO CARRIER|\+CME ERROR:.*|\+CMS ERROR:.*)$/;
const LAST_BYTES_KEPT = 256;
const BACKLOG_LIMIT = 256;
/** A line longer than this is garbage (or a lost line end): it is cut and noted, never buffered forever. */
const MAX_LINE = 16 * 1024;

interface PendingCommand {
  readonly command: string;
  readonly responsePrefix: string | null;
  /** Read (`AT+X?`) or test (`AT+X=?`) form: its answer may start with a URC prefix. */
  readonly queries: boolean;
  readonly lines: string[];
  readonly prompt: DataCommandOptions['prompt'] | null;
  readonly extraFinals: Readonly<Record<string, boolean>>;
  readonly rawDataAfter: RegExp | undefined;
  readonly restarts: boolean;
  data: Buffer | undefined;
  onPrompt: (() => void) | null;
  readonly resolve: (r: AtResponse) => void;
  readonly reject: (e: Error) => void;
}

interface UrcWaiter {
  readonly match: RegExp;
  readonly failOn: RegExp | undefined;
  readonly resolve: (line: string) => void;
  readonly reject: (e: Error) => void;
}

/** Raw bytes being taken verbatim after a length-announcing line. */
interface RawRead {
  remaining: number;
  readonly chunks: string[];
  readonly pending: PendingCommand;
}

/** `AT+QSSLCFG="sni",1` → `+QSSLCFG:`; `AT#XSOCKET=1` → `#XSOCKET:`; `ATI` → null. */
export function responsePrefixOf(command: string): string | null {
  const m = /^AT([+#%$][A-Z0-9_]+)/i.exec(command);
  return m?.[1] ? `${m[1].toUpperCase()}:` : null;
}

/**
 * Speaks AT over any byte stream: one command at a time, final result codes, information lines,
 * `>` and CONNECT data prompts, and URCs routed to whoever waits for them even when they came
 * before the wait began. Every wait is bounded.
 *
 * A late answer never answers the wrong command: a command that timed out is *abandoned*, and the
 * next command is held until the abandoned one's final result arrives (it is recorded in the
 * transcript as a late answer and dropped) or, failing that, until a plain `AT` probe is answered
 * and the line has stayed quiet for a moment. If even the probe gets no answer, the command fails
 * with AtDesyncError; the next one tries again, each attempt bounded.
 */
export class AtEngine {
  readonly #stream: Duplex;
  readonly #transcript: Transcript;
  readonly #defaultTimeoutMs: number;
  #urcPrefixes: readonly string[];
  #resultAfterOk: readonly string[];
  readonly #resyncTimeoutMs: number;
  readonly #resyncSettleMs: number;
  #restartNotice: RegExp | null;
  /**
   * True once the module has answered a command since it last announced a (re)start: a boot
   * banner before that is the module coming up (a port opened at power-on), not a restart.
   */
  #upSinceBoot = false;
  #partial = '';
  #skipLf = false;
  #raw: RawRead | null = null;
  #lastBytes = '';
  #pending: PendingCommand | null = null;
  /** The command that timed out and whose answer may still come. */
  #abandoned: string | null = null;
  /** Receives final results while no command is pending (late answers, the resync probe's answer). */
  #strayFinal: ((line: string | null) => void) | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #waiters: UrcWaiter[] = [];
  readonly #backlog: string[] = [];
  readonly #listeners = new Set<(line: string) => void>();
  #closed: Error | null = null;

  constructor(stream: Duplex, options: AtEngineOptions) {
    this.#stream = stream;
    this.#transcript = options.transcript;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 300;
    this.#urcPrefixes = options.urcPrefixes ?? GENERIC_URC_PREFIXES;
    this.#resultAfterOk = options.resultAfterOk ?? [];
    this.#resyncTimeoutMs = options.resyncTimeoutMs ?? Math.max(1_000, 2 * this.#defaultTimeoutMs);
    this.#resyncSettleMs = options.resyncSettleMs ?? 100;
    this.#restartNotice = options.restartNotice ?? null;
    stream.on('data', (chunk: Buffer | string) => this.#onData(chunk));
    // A port that vanished and came back (USB re-enumeration on a module reset): the module is
    // coming up again, so its banner is start-up, and a command held meanwhile is answered after it.
    stream.on('disconnected', () => {
      this.#upSinceBoot = false;
    });
    // No more answers can come once the device side has ended, even if our side is still open.
    stream.on('end', () => this.#fail(new AtLinkError('stream ended')));
    stream.on('close', () => this.#fail(new AtLinkError('stream closed')));
    stream.on('error', (err: Error) => this.#fail(new AtLinkError('stream error', err)));
  }
  /** Adds a dialect's URCs, results after OK and restart banner to what this engine recognises. */
  speak(dialect: AtDialect): void {
    const both = dialectOptions(
      {
        urcPrefixes: this.#urcPrefixes,
        resultAfterOk: this.#resultAfterOk,
        ...(this.#restartNotice ? { restartNotice: this.#restartNotice } : {}),
      },
      dialect,
    );
    this.#urcPrefixes = both.urcPrefixes ?? this.#urcPrefixes;
    this.#resultAfterOk = both.resultAfterOk ?? this.#resultAfterOk;
    this.#restartNotice = both.restartNotice ?? this.#restartNotice;
  }

  get transcript(): Transcript {
    return this.#transcript;
  }

  /** The last bytes the device sent, for error reports. */
  get lastBytes(): string {
    return this.#lastBytes;
  }

  /** Whether the link is gone; every later command and wait rejects at once. */
  get closed(): boolean {
    return this.#closed !== null;
  }

  /** Sends a command and resolves with its final result; ERROR resolves too, with `ok: false`. */
  command(command: string, options: CommandOptions = {}): Promise<AtResponse> {
    return this.#enqueue(command, null, null, options);
  }

  /** Like `command`, but rejects unless the final result is OK. */
  async commandOk(command: string, options: CommandOptions = {}): Promise<AtResponse> {
    const tries = 1 + Math.max(0, options.retries ?? 0);
    for (let attempt = 1; ; attempt++) {
      const r = await this.command(command, options);
      if (r.ok) return r;
      if (attempt >= tries) throw new AtCommandError(command, r.final);
      // The device answered (it is alive): a refusal of an idempotent command is tried again.
      this.#transcript.record('note', `${command} refused (${r.final}); retry ${attempt}/${tries - 1}`);
    }
  }

  /** A command that opens a data phase: after the prompt the payload is written verbatim. */
  commandWithData(command: string, payload: Buffer, options: DataCommandOptions): Promise<AtResponse> {
    return this.#enqueue(command, options.prompt, payload, options);
  }

  /**
   * Waits for a URC matching `match`; one that arrived earlier and was not taken counts. With
   * `failOn`, a matching URC (earlier or now) ends the wait at once with AtUnexpectedUrcError.
   */
  waitForUrc(match: RegExp, options: UrcWaitOptions): Promise<string> {
    const what = `waiting for URC ${match}`;
    const fromBacklog = this.#backlog.findIndex((l) => match.test(l) || options.failOn?.test(l));
    if (fromBacklog >= 0) {
      const [line] = this.#backlog.splice(fromBacklog, 1) as [string];
      return match.test(line) ? Promise.resolve(line) : Promise.reject(new AtUnexpectedUrcError(what, line));
    }
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#removeWaiter(waiter);
        reject(new AtTimeoutError(what, options.timeoutMs, this.#lastBytes));
      }, options.timeoutMs);
      const waiter: UrcWaiter = {
        match,
        failOn: options.failOn,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Every URC as it arrives, whether or not someone waits for it. Returns an unsubscribe function. */
  onUrc(listener: (line: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Forgets URCs nobody took, e.g. before a new case starts. */
  clearBacklog(): string[] {
    return this.#backlog.splice(0);
  }

  #enqueue(
    command: string,
    prompt: PendingCommand['prompt'],
    payload: Buffer | null,
    options: CommandOptions,
  ): Promise<AtResponse> {
    const run = async () => {
      if (this.#abandoned !== null) await this.#resync();
      return this.#run(command, prompt, payload, options);
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }

  #run(
    command: string,
    prompt: PendingCommand['prompt'],
    payload: Buffer | null,
    options: CommandOptions,
  ): Promise<AtResponse> {
    if (this.#closed) return Promise.reject(this.#closed);
    const timeoutMs = options.timeoutMs ?? this.#defaultTimeoutMs;
    return new Promise<AtResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending !== pending) return;
        this.#pending = null;
        this.#raw = null;
        this.#abandoned = command;
        this.#transcript.record('note', `timeout after ${timeoutMs} ms: ${command} abandoned`);
        reject(new AtTimeoutError(command, timeoutMs, this.#lastBytes));
      }, timeoutMs);
      const pending: PendingCommand = {
        command,
        responsePrefix: responsePrefixOf(command),
        queries: /\?$/.test(command),
        lines: [],
        prompt,
        extraFinals: options.extraFinals ?? {},
        rawDataAfter: options.rawDataAfter,
        restarts: options.restarts === true,
        data: undefined,
        onPrompt:
          payload === null
            ? null
            : () => {
                this.#transcript.record('tx', payload);
                this.#stream.write(payload);
              },
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#pending = pending;
      this.#send(`${command}\r`);
    });
  }

  #send(text: string): void {
    this.#transcript.record('tx', text);
    this.#stream.write(text);
  }

  /** Gets back in step after a timeout; see the class comment. */
  async #resync(): Promise<void> {
    const abandoned = this.#abandoned ?? '';
    await this.#nextStrayFinal(this.#resyncTimeoutMs, () => {});
    if (this.#closed) throw this.#closed;
    if (this.#abandoned === null) return; // the late answer came (now or before this command)
    this.#transcript.record('note', `no late answer to ${abandoned}; probing with AT`);
    const probe = await this.#nextStrayFinal(this.#resyncTimeoutMs, () => this.#send('AT\r'));
    if (this.#closed) throw this.#closed;
    if (probe === null) throw new AtDesyncError(abandoned, this.#lastBytes);
    // If the abandoned command answered first, the probe's own answer is still to come.
    await this.#nextStrayFinal(this.#resyncSettleMs, () => {});
    this.#abandoned = null;
  }

  /**
   * The next final result that arrives while no command is pending, or null after `ms`. `start` runs
   * once the taker is in place, so an answer that comes synchronously is not missed.
   */
  #nextStrayFinal(ms: number, start: () => void): Promise<string | null> {
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#strayFinal = null;
        resolve(null);
      }, ms);
      this.#strayFinal = (line) => {
        clearTimeout(timer);
        this.#strayFinal = null;
        resolve(line);
      };
      start();
    });
  }

  #onData(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    this.#transcript.record('rx', text);
    this.#lastBytes = (this.#lastBytes + text).slice(-LAST_BYTES_KEPT);
    let rest = text;
    while (rest.length > 0) {
      if (this.#skipLf) {
        this.#skipLf = false;
        if (rest[0] === '\n') {
          rest = rest.slice(1);
          continue;
        }
      }
      const raw = this.#raw;
      if (raw) {
        const take = rest.slice(0, raw.remaining);
        raw.chunks.push(take);
        raw.remaining -= take.length;
        rest = rest.slice(take.length);
        if (raw.remaining === 0) {
          this.#raw = null;
          raw.pending.data = Buffer.from(raw.chunks.join(''), 'latin1');
        }
        continue;
      }
      const end = rest.search(/[\r\n]/);
      if (end < 0) {
        this.#partial += rest;
        rest = '';
        break;
      }
      const text_line = this.#partial + rest.slice(0, end);
      this.#partial = '';
      // A CR LF pair is one line end; when the LF is in the next chunk it is skipped there.
      if (rest[end] === '\r') {
        if (end + 1 < rest.length) rest = rest.slice(rest[end + 1] === '\n' ? end + 2 : end + 1);
        else {
          rest = '';
          this.#skipLf = true;
        }
      } else rest = rest.slice(end + 1);
      const line = text_line.trim();
      if (line !== '') this.#onLine(line);
    }
    if (this.#partial.length > MAX_LINE) {
      this.#transcript.record('note', `discarded ${this.#partial.length} bytes without a line end`);
      this.#partial = '';
    }
    // The `>` prompt comes without a line end.
    const pending = this.#pending;
    if (pending?.prompt === '>' && pending.onPrompt && this.#partial.trim() === '>') {
      this.#partial = '';
      this.#firePrompt(pending);
    }
  }

  #firePrompt(pending: PendingCommand): void {
    const onPrompt = pending.onPrompt;
    pending.onPrompt = null;
    onPrompt?.();
  }

  #onLine(line: string): void {
    const pending = this.#pending;
    if (pending) {
      if (line === pending.command) return; // echo
      // Own keys only: an information line such as "toString" must not find Object.prototype.
      const extra = Object.hasOwn(pending.extraFinals, line) ? pending.extraFinals[line] : undefined;
      if (FINAL_RESULT.test(line) || extra !== undefined) {
        this.#pending = null;
        this.#upSinceBoot = true;
        pending.resolve({
          command: pending.command,
          final: line,
          ok: line === 'OK' || extra === true,
          lines: pending.lines,
          ...(pending.data ? { data: pending.data } : {}),
        });
        return;
      }
      if (pending.prompt === 'CONNECT' && line === 'CONNECT' && pending.onPrompt) {
        this.#firePrompt(pending);
        return;
      }
      if (this.#answersPending(pending, line)) {
        pending.lines.push(line);
        const size = pending.rawDataAfter?.exec(line)?.[1];
        if (size !== undefined && Number(size) > 0) {
          this.#raw = { remaining: Number(size), chunks: [], pending };
        }
        return;
      }
    } else if (FINAL_RESULT.test(line)) {
      const taker = this.#strayFinal;
      if (this.#abandoned !== null) {
        this.#transcript.record('note', `late answer to abandoned ${this.#abandoned}: ${line}`);
        this.#abandoned = null;
      } else {
        this.#transcript.record('note', `final result with no command pending: ${line}`);
      }
      taker?.(line);
      return;
    } else if (this.#abandoned !== null && !this.#isUrc(line)) {
      this.#transcript.record('note', `late line for abandoned ${this.#abandoned}: ${line}`);
      return;
    }
    this.#onUrcLine(line);
  }

  /**
   * Whether a line belongs to the pending command. A line with a URC prefix answers only that same
   * command (`#XSOCKET: 0,"closed"` answers `AT#XSOCKET=0`), and for commands whose write form
   * reports after OK only the read or test form (`AT+QMTOPEN?`); after `AT+QMTOPEN=…` it is the URC.
   */
  #answersPending(pending: PendingCommand, line: string): boolean {
    if (!this.#isUrc(line)) return true;
    const prefix = pending.responsePrefix;
    if (prefix === null || !line.startsWith(prefix)) return false;
    return pending.queries || !this.#resultAfterOk.includes(prefix);
  }

  #isUrc(line: string): boolean {
    return this.#urcPrefixes.some((p) => line.startsWith(p));
  }

  #onUrcLine(line: string): void {
    if (this.#restartNotice?.test(line)) {
      if (this.#upSinceBoot) this.#endWaitsOnRestart(line);
      this.#upSinceBoot = false;
    }
    for (const listener of this.#listeners) {
      try {
        listener(line);
      } catch (err) {
        this.#transcript.record('note', `URC listener failed on ${line}: ${(err as Error).message}`);
      }
    }
    const waiter = this.#waiters.find((w) => w.match.test(line) || w.failOn?.test(line));
    if (!waiter) {
      this.#backlog.push(line);
      if (this.#backlog.length > BACKLOG_LIMIT) this.#backlog.shift();
      return;
    }
    this.#removeWaiter(waiter);
    if (waiter.match.test(line)) waiter.resolve(line);
    else waiter.reject(new AtUnexpectedUrcError(`waiting for URC ${waiter.match}`, line));
  }

  /**
   * A module that restarted answers nothing it was asked before: the pending command (unless it is
   * the restart itself) and every wait for something other than the boot notice end now, instead
   * of at their timeouts.
   */
  #endWaitsOnRestart(notice: string): void {
    const pending = this.#pending;
    if (pending && !pending.restarts) {
      this.#pending = null;
      this.#transcript.record('note', `restart notice ${notice} while ${pending.command} was pending`);
      pending.reject(new AtRestartError(pending.command, notice));
    }
    for (const w of [...this.#waiters]) {
      if (w.match.test(notice)) continue;
      this.#removeWaiter(w);
      w.reject(new AtRestartError(`waiting for URC ${w.match}`, notice));
    }
  }

  #removeWaiter(waiter: UrcWaiter): void {
    const i = this.#waiters.indexOf(waiter);
    if (i >= 0) this.#waiters.splice(i, 1);
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    this.#pending?.reject(error);
    this.#pending = null;
    this.#strayFinal?.(null);
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }
}
