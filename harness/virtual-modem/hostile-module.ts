import { createServer, type Server, type Socket } from 'node:net';
import { listenOn } from '../../brokers/listen.ts';
import { familyNamed } from '../families.ts';
import { createMemoryPair } from '../transport/memory-pair.ts';
import type { HostileTargets } from './dialect.ts';
import type { Fault } from './faults.ts';
import type { LatencyModel } from './latency.ts';
import type { VirtualNetwork } from './network.ts';
import { type RunningVirtualModem, startVirtualModem } from './start.ts';

/**
 * How a module misbehaves on the line (modem → host), beyond the dialect's own faults. Injected
 * URCs are unsolicited status lines a module prints on its own, never result codes of the flow
 * the harness drives (a module that forges +QMTOPEN results is lying, not misbehaving).
 */
export interface LineMangling {
  /** Deliver the output in 1–3 byte segments. */
  readonly segments?: boolean;
  /** Chance, at each line boundary, of a garbage line (printable noise, NUL, 0xff, escape codes). */
  readonly garbageLines?: number;
  /** Chance, at each line boundary, of a stray unsolicited URC. */
  readonly strayUrcs?: number;
  /** Chance of a NUL or non-UTF-8 byte glued to the start of a line (a UART glitch). */
  readonly glitchBytes?: number;
  /** One line of this many bytes, once, at a seeded line boundary. */
  readonly longLineBytes?: number;
  /** Every command line the host sends is echoed back once more. */
  readonly doubleEcho?: boolean;
  /** Each chunk is held this long (min, max ms), order kept. */
  readonly delayMs?: readonly [number, number];
}

export interface HostileMode {
  readonly line?: LineMangling;
  /** The dialect's own faults for this mode, placed by the seed. */
  readonly faults?: (family: string, random: () => number) => readonly Fault[];
}

const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;
const between = (random: () => number, lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

/** Where a dialect's seeded faults land: the commands and URCs its own folder declares. */
const targets = (family: string): HostileTargets => familyNamed(family).virtual.hostile;
const SETTINGS = (family: string) => targets(family).settings;

/**
 * The misbehaviours the hostile suite runs, as data: ten and more modes seen on real modules.
 * Line modes act on the bytes; the others are the virtual dialect's faults, placed by the seed.
 */
export const HOSTILE_MODES: Readonly<Record<string, HostileMode>> = {
  segments: { line: { segments: true } },
  'garbage-lines': { line: { garbageLines: 0.12 } },
  'stray-urcs': { line: { strayUrcs: 0.15 } },
  'glitch-bytes': { line: { glitchBytes: 0.05 } },
  'long-line': { line: { longLineBytes: 1_000_000 } },
  'double-echo': { line: { doubleEcho: true } },
  'slow-line': { line: { delayMs: [1, 12] } },
  refusals: {
    faults: (family, random) => [
      { kind: 'refuse', on: { command: pick(random, SETTINGS(family)), occurrence: between(random, 1, 3) } },
      { kind: 'refuse', on: { command: pick(random, SETTINGS(family)), occurrence: between(random, 1, 3) } },
    ],
  },
  'silent-reset': {
    faults: (family, random) => [
      { kind: 'silent-reset', on: { command: targets(family).open, occurrence: between(random, 1, 2) } },
    ],
  },
  reboot: {
    faults: (family, random) => [
      { kind: 'reboot', on: { command: pick(random, SETTINGS(family)), occurrence: between(random, 1, 4) } },
    ],
  },
  silence: {
    faults: (family, random) => [
      {
        kind: 'slow-answer',
        on: { command: pick(random, SETTINGS(family)), occurrence: between(random, 1, 3) },
        delayMs: 4_000,
      },
    ],
  },
  'damaged-upload': {
    faults: (family, random) => targets(family).damagedUpload((lo, hi) => between(random, lo, hi)),
  },
  'pdp-loss': {
    faults: (family, random) => [
      { kind: 'pdp-deactivate', on: { command: targets(family).open, occurrence: between(random, 1, 2) } },
    ],
  },
};

/** A small seeded generator (mulberry32): the same seed misbehaves the same way. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function garbageLine(random: () => number): Buffer {
  const noise = ['#~', '\x00\xff', '\x1b[0m', 'dbg: tick', '\xfe\xfa??', '\x07'];
  return Buffer.from(`${pick(random, noise)}${pick(random, noise)}\r\n`, 'latin1');
}

/** The byte relay modem → host with the line's misbehaviour applied, in order. */
class ManglingRelay {
  readonly #out: (chunk: Buffer) => void;
  readonly #m: LineMangling;
  readonly #random: () => number;
  readonly #family: string;
  #queue: Buffer[] = [];
  #draining = false;
  #longLineAt: number;
  #lines = 0;

  constructor(family: string, m: LineMangling, random: () => number, out: (chunk: Buffer) => void) {
    this.#family = family;
    this.#m = m;
    this.#random = random;
    this.#out = out;
    this.#longLineAt = m.longLineBytes ? between(random, 2, 20) : -1;
  }

  /** Output of the modem: boundaries found, injections placed, then delivered in order. */
  push(chunk: Buffer): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== 0x0a) continue;
      this.#enqueue(chunk.subarray(start, i + 1));
      start = i + 1;
      this.#atBoundary();
    }
    if (start < chunk.length) this.#enqueue(chunk.subarray(start));
  }

  /** Bytes the harness sent: the echo a double-echo module repeats. */
  sent(chunk: Buffer): void {
    if (!this.#m.doubleEcho) return;
    const text = chunk.toString('latin1');
    if (text.includes('\r') && /^AT/i.test(text))
      this.#enqueue(Buffer.from(text.replace(/\r.*$/s, '\r'), 'latin1'));
  }

  #atBoundary(): void {
    this.#lines++;
    const m = this.#m;
    if (this.#lines === this.#longLineAt && m.longLineBytes) {
      this.#enqueue(Buffer.from(`${'Z'.repeat(m.longLineBytes)}\r\n`));
    }
    if (m.garbageLines && this.#random() < m.garbageLines) this.#enqueue(garbageLine(this.#random));
    if (m.strayUrcs && this.#random() < m.strayUrcs) {
      this.#enqueue(Buffer.from(`\r\n${pick(this.#random, targets(this.#family).strayUrcs)}\r\n`));
    }
    if (m.glitchBytes && this.#random() < m.glitchBytes)
      this.#enqueue(Buffer.from([pick(this.#random, [0x00, 0xff, 0xfe])]));
  }

  #enqueue(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.#m.segments) {
      for (let i = 0; i < bytes.length; ) {
        const n = between(this.#random, 1, 3);
        this.#queue.push(bytes.subarray(i, i + n));
        i += n;
      }
    } else this.#queue.push(Buffer.from(bytes));
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    while (this.#queue.length > 0) {
      const next = this.#queue.shift() as Buffer;
      const delay = this.#m.delayMs ? between(this.#random, this.#m.delayMs[0], this.#m.delayMs[1]) : 0;
      // One timer at a time keeps the order; segments without delay still go one turn apart.
      await new Promise((r) =>
        delay > 0 ? setTimeout(r, delay) : this.#m.segments ? setImmediate(r) : r(null),
      );
      this.#out(next);
    }
    this.#draining = false;
  }
}

export interface HostileModuleOptions {
  readonly family: string;
  readonly mode: HostileMode;
  readonly seed: number;
  readonly network: VirtualNetwork;
  /** Dialect faults beyond the mode's (property tests build whole schedules). */
  readonly extraFaults?: readonly Fault[];
  /** The module's timing (serial, network, late closes); none by default. */
  readonly latency?: LatencyModel;
}

export interface HostileModule {
  /** `tcp://127.0.0.1:<port>`: what `trustlab run --device` takes. */
  readonly address: string;
  readonly modem: RunningVirtualModem;
  stop(): Promise<void>;
}

/**
 * A misbehaving module served on loopback the way ser2net serves a UART: the virtual dialect with
 * the mode's faults, behind a relay that mangles its output. Scriptable (modes are data) and
 * repeatable (every choice comes from the seed), so a failure can be replayed.
 */
export async function startHostileModule(options: HostileModuleOptions): Promise<HostileModule> {
  const random = seeded(options.seed);
  const faults = [...(options.mode.faults?.(options.family, random) ?? []), ...(options.extraFaults ?? [])];
  const [hostEnd, modemEnd] = createMemoryPair();
  const modem = await startVirtualModem(
    {
      family: options.family,
      network: options.network,
      faults,
      ...(options.latency ? { latency: options.latency } : {}),
    },
    modemEnd,
  );
  let client: Socket | null = null;
  let relay: ManglingRelay | null = null;
  hostEnd.on('data', (chunk: Buffer) => relay?.push(chunk));
  const server: Server = createServer((socket) => {
    if (client) return socket.destroy();
    client = socket;
    socket.setNoDelay(true);
    relay = new ManglingRelay(options.family, options.mode.line ?? {}, random, (c) => {
      if (!socket.destroyed) socket.write(c);
    });
    socket.on('data', (chunk: Buffer) => {
      relay?.sent(chunk);
      hostEnd.write(chunk);
    });
    socket.on('error', () => {});
    socket.once('close', () => {
      if (client === socket) {
        client = null;
        relay = null;
      }
    });
  });
  const port = await listenOn(server, { host: '127.0.0.1' });
  return {
    address: `tcp://127.0.0.1:${port}`,
    modem,
    async stop() {
      (client as Socket | null)?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      modem.stop();
      hostEnd.destroy();
    },
  };
}
