import type { Duplex } from 'node:stream';
import { AtCommandError, AtLinkError, AtTimeoutError, AtUnexpectedUrcError } from './errors.ts';
import type { Transcript } from './transcript.ts';

export interface AtResponse {
  readonly command: string;
  /** The final result code line exactly as received: OK, ERROR, +CME ERROR: <n>, +CMS ERROR: <n>. */
  readonly final: string;
  readonly ok: boolean;
  /** Information lines of this command, in order. */
  readonly lines: string[];
}

export interface CommandOptions {
  /** The vendor's maximum response time for this command. */
  readonly timeoutMs?: number;
}

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
}

/** URCs of the dialects TrustLab speaks; a line starting with one is never taken as another command's answer. */
export const DEFAULT_URC_PREFIXES = [
  'RDY',
  'APP RDY',
  '+QIND:',
  '+QIURC:',
  '+QMTOPEN:',
  '+QMTCONN:',
  '+QMTPUB:',
  '+QMTPUBEX:',
  '+QMTDISC:',
  '+QMTCLOSE:',
  '+QMTSTAT:',
  '+QMTRECV:',
  '+QSSLOPEN:',
  '+QSSLURC:',
  '+CEREG:',
  '+CSCON:',
  '#XMQTTEVT:',
  '#XMQTTMSG:',
] as const;

const FINAL_RESULT = /^(OK|ERROR|NO CARRIER|\+CME ERROR:.*|\+CMS ERROR:.*)$/;
const LAST_BYTES_KEPT = 256;
const BACKLOG_LIMIT = 256;

interface PendingCommand {
  readonly command: string;
  readonly responsePrefix: string | null;
  readonly lines: string[];
  readonly prompt: DataCommandOptions['prompt'] | null;
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

/** `AT+QSSLCFG="sni",1` → `+QSSLCFG:`; `AT#XSOCKET=1` → `#XSOCKET:`; `ATI` → null. */
export function responsePrefixOf(command: string): string | null {
  const m = /^AT([+#%$][A-Z0-9_]+)/i.exec(command);
  return m?.[1] ? `${m[1].toUpperCase()}:` : null;
}

/**
 * Speaks AT over any byte stream: one command at a time, final result codes, information lines,
 * `>` and CONNECT data prompts, and URCs routed to whoever waits for them even when they came
 * before the wait began. Every wait is bounded.
 */
export class AtEngine {
  readonly #stream: Duplex;
  readonly #transcript: Transcript;
  readonly #defaultTimeoutMs: number;
  readonly #urcPrefixes: readonly string[];
  #partial = '';
  #lastBytes = '';
  #pending: PendingCommand | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #waiters: UrcWaiter[] = [];
  readonly #backlog: string[] = [];
  readonly #listeners = new Set<(line: string) => void>();
  #closed: Error | null = null;

  constructor(stream: Duplex, options: AtEngineOptions) {
    this.#stream = stream;
    this.#transcript = options.transcript;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 300;
    this.#urcPrefixes = options.urcPrefixes ?? DEFAULT_URC_PREFIXES;
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    // No more answers can come once the device side has ended, even if our side is still open.
    stream.on('end', () => this.#fail(new AtLinkError('stream ended')));
    stream.on('close', () => this.#fail(new AtLinkError('stream closed')));
    stream.on('error', (err: Error) => this.#fail(new AtLinkError('stream error', err)));
  }

  get transcript(): Transcript {
    return this.#transcript;
  }

  /** Sends a command and resolves with its final result; ERROR resolves too, with `ok: false`. */
  command(command: string, options: CommandOptions = {}): Promise<AtResponse> {
    return this.#enqueue(command, null, null, options.timeoutMs);
  }

  /** Like `command`, but rejects unless the final result is OK. */
  async commandOk(command: string, options: CommandOptions = {}): Promise<AtResponse> {
    const r = await this.command(command, options);
    if (!r.ok) throw new AtCommandError(command, r.final);
    return r;
  }

  /** A command that opens a data phase: after the prompt the payload is written verbatim. */
  commandWithData(command: string, payload: Buffer, options: DataCommandOptions): Promise<AtResponse> {
    return this.#enqueue(command, options.prompt, payload, options.timeoutMs);
  }

  /** Waits for a URC matching `match`; one that arrived earlier and was not taken counts. */
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
    timeoutMs = this.#defaultTimeoutMs,
  ): Promise<AtResponse> {
    const run = () => this.#run(command, prompt, payload, timeoutMs);
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }

  #run(
    command: string,
    prompt: PendingCommand['prompt'],
    payload: Buffer | null,
    timeoutMs: number,
  ): Promise<AtResponse> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<AtResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = null;
        reject(new AtTimeoutError(command, timeoutMs, this.#lastBytes));
      }, timeoutMs);
      this.#pending = {
        command,
        responsePrefix: responsePrefixOf(command),
        lines: [],
        prompt,
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
      const line = `${command}\r`;
      this.#transcript.record('tx', line);
      this.#stream.write(line);
    });
  }

  #onData(chunk: Buffer): void {
    const text = chunk.toString('latin1');
    this.#transcript.record('rx', text);
    this.#lastBytes = (this.#lastBytes + text).slice(-LAST_BYTES_KEPT);
    this.#partial += text;
    const parts = this.#partial.split(/\r\n|\r|\n/);
    this.#partial = parts.pop() ?? '';
    for (const raw of parts) {
      const line = raw.trim();
      if (line !== '') this.#onLine(line);
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
      if (FINAL_RESULT.test(line)) {
        this.#pending = null;
        pending.resolve({ command: pending.command, final: line, ok: line === 'OK', lines: pending.lines });
        return;
      }
      if (pending.prompt === 'CONNECT' && line === 'CONNECT' && pending.onPrompt) {
        this.#firePrompt(pending);
        return;
      }
      const answersPending = pending.responsePrefix !== null && line.startsWith(pending.responsePrefix);
      if (answersPending || !this.#isUrc(line)) {
        pending.lines.push(line);
        return;
      }
    } else if (FINAL_RESULT.test(line)) {
      this.#transcript.record('note', `stray final result with no command pending: ${line}`);
      return;
    }
    this.#onUrcLine(line);
  }

  #isUrc(line: string): boolean {
    return this.#urcPrefixes.some((p) => line.startsWith(p));
  }

  #onUrcLine(line: string): void {
    for (const listener of this.#listeners) listener(line);
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

  #removeWaiter(waiter: UrcWaiter): void {
    const i = this.#waiters.indexOf(waiter);
    if (i >= 0) this.#waiters.splice(i, 1);
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    this.#pending?.reject(error);
    this.#pending = null;
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }
}
