import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NRF91_SLM_AT } from '../drivers/nrf91-slm/at-dialect.ts';
import { QUECTEL_AT } from '../drivers/quectel/at-dialect.ts';
import { createMemoryPair } from '../transport/memory-pair.ts';
import { AtEngine, dialectOptions } from './engine.ts';
import { AtDesyncError, AtTimeoutError } from './errors.ts';
import { Transcript } from './transcript.ts';

/** What the device answers to one command. */
interface Exchange {
  readonly command: string;
  readonly lines: string[];
  readonly final: string;
  readonly echo: boolean;
  /** URCs slotted in before the info line with the same index (index = lines.length: after the final). */
  readonly urcs: { readonly at: number; readonly line: string }[];
  /** Where the reply bytes are cut into separate writes (fractions of the length). */
  readonly cuts: number[];
  /** Line noise before the reply, already ended by CR LF. */
  readonly noise: string;
}

/** URCs that may come at any time. A restart banner (RDY, Ready) is not one: it ends what was pending. */
const URCS = [
  'APP RDY',
  '+QMTSTAT: 1,1',
  '+QIURC: "pdpdeact",1',
  '+QSSLURC: "closed",4',
  '+QMTOPEN: 1,0',
  '#XMQTTEVT: 0,0',
];

const infoLine = fc
  .stringMatching(/^[A-Za-z0-9 ,:"+.%#-]{1,40}$/)
  .map((s) => s.trim())
  .filter((s) => s !== '' && !/^(OK|ERROR|NO CARRIER|CONNECT|\+CME ERROR|\+CMS ERROR)/.test(s))
  .filter(
    (s) => !URCS.some((u) => s.startsWith(u.split(' ')[0] ?? u)) && !/^(RDY|APP RDY|\+QIURC|#X|%)/.test(s),
  )
  .filter((s) => !/^(POWERED DOWN|Ready|\+CPIN:|\+Q|\+C)/.test(s));

const finalResult = fc.constantFrom('OK', 'ERROR', '+CME ERROR: 50', '+CME ERROR: 407', '+CMS ERROR: 500');

const exchange = (i: number) =>
  fc.record({
    command: fc.constant(`AT+T${i}=${i}`),
    lines: fc.array(infoLine, { maxLength: 4 }),
    final: finalResult,
    echo: fc.boolean(),
    urcs: fc.array(fc.record({ at: fc.nat(5), line: fc.constantFrom(...URCS) }), { maxLength: 3 }),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
    noise: fc.constant(''),
  });

/** Garbage that is not a final result or a URC line; may hold stray CR, NUL and high bytes. */
const noise = fc
  .uint8Array({ minLength: 1, maxLength: 30 })
  .map((b) => Buffer.from(b).toString('latin1'))
  .filter((s) =>
    s
      .split(/\r\n|\r|\n/)
      .map((l) => l.trim())
      .every(
        (l) =>
          l === '' ||
          (!/^(OK|ERROR|NO CARRIER|CONNECT|\+CM[ES] ERROR)/.test(l) && !/^[+#%]|RDY|Ready|POWERED/.test(l)),
      ),
  )
  .map((s) => `${s}\r\n`);

function replyBytes(x: Exchange): string {
  let out = x.noise + (x.echo ? `${x.command}\r` : '');
  const urcsAt = (i: number) =>
    x.urcs
      .filter((u) => Math.min(u.at, x.lines.length) === i)
      .map((u) => `\r\n${u.line}\r\n`)
      .join('');
  x.lines.forEach((line, i) => {
    out += `${urcsAt(i)}\r\n${line}\r\n`;
  });
  out += `\r\n${x.final}\r\n`;
  // URCs placed past the last line arrive after the final result, as +QMTOPEN does after OK.
  out += urcsAt(x.lines.length);
  return out;
}

function cut(bytes: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) parts.push(bytes.slice(from, p));
    from = Math.max(from, p);
  }
  parts.push(bytes.slice(from));
  return parts.filter((p) => p.length > 0);
}

/** A device that answers each command line with its scripted exchange, in pieces, across event-loop turns. */
function scriptedDevice(exchanges: readonly Exchange[]) {
  const [host, device] = createMemoryPair();
  const byCommand = new Map(exchanges.map((x) => [x.command, x]));
  let line = '';
  // One writer: a reply never starts inside the unfinished bytes of the previous one.
  let writing: Promise<void> = Promise.resolve();
  device.on('data', (chunk: Buffer) => {
    for (const c of chunk.toString('latin1')) {
      if (c !== '\r') {
        line += c;
        continue;
      }
      const x = byCommand.get(line);
      line = '';
      if (!x) continue;
      const parts = cut(replyBytes(x), x.cuts);
      writing = writing.then(async () => {
        for (const part of parts) {
          device.write(Buffer.from(part, 'latin1'));
          await new Promise((r) => setImmediate(r));
        }
      });
    }
  });
  return host;
}

describe('AtEngine under random splits, noise and interleaved URCs', () => {
  it('gives every command exactly its own final result and information lines, and every URC to listeners', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 5 })
          .chain((n) =>
            fc
              .tuple(...Array.from({ length: n }, (_, i) => exchange(i)))
              .chain((xs) =>
                fc.tuple(
                  fc.constant(xs),
                  fc.array(fc.option(noise, { nil: '' }), { minLength: n, maxLength: n }),
                ),
              ),
          ),
        async ([xs, noises]) => {
          const exchanges = xs.map((x, i) => ({ ...x, noise: noises[i] ?? '' }));
          const at = new AtEngine(scriptedDevice(exchanges), {
            transcript: new Transcript(),
            defaultTimeoutMs: 2_000,
            ...dialectOptions(QUECTEL_AT, NRF91_SLM_AT),
          });
          const urcs: string[] = [];
          const expected = exchanges.flatMap((x) => URC_ORDER(x));
          let allIn = () => {};
          const arrived = new Promise<void>((resolve) => {
            allIn = resolve;
          });
          at.onUrc((l) => {
            urcs.push(l);
            if (urcs.length >= expected.length) allIn();
          });
          if (expected.length === 0) allIn();
          // Queue them all at once: the engine must still send one at a time.
          const results = await Promise.all(exchanges.map((x) => at.command(x.command)));
          results.forEach((r, i) => {
            const x = exchanges[i] as Exchange;
            expect(r.final).toBe(x.final);
            expect(r.ok).toBe(x.final === 'OK');
            // Noise before the reply may become extra information lines; the scripted ones come last, in order.
            expect(r.lines.slice(r.lines.length - x.lines.length)).toEqual(x.lines);
            if (x.noise === '') expect(r.lines).toEqual(x.lines);
          });
          // Trailing URCs may follow the last OK: wait for them, bounded (a missing one fails below).
          let bound: NodeJS.Timeout | undefined;
          await Promise.race([arrived, new Promise((r) => (bound = setTimeout(r, 2_000)))]);
          clearTimeout(bound);
          expect(urcs).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never hangs or throws on arbitrary bytes: each command settles within its bound', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), async (chunks) => {
        const [host, device] = createMemoryPair();
        const at = new AtEngine(host, {
          transcript: new Transcript(),
          defaultTimeoutMs: 20,
          resyncTimeoutMs: 20,
          ...dialectOptions(QUECTEL_AT, NRF91_SLM_AT),
        });
        const first = at.command('AT').then(
          (r) => r.final,
          (e: unknown) => e,
        );
        const second = at.command('ATI').then(
          (r) => r.final,
          (e: unknown) => e,
        );
        for (const c of chunks) device.write(Buffer.from(c));
        for (const settled of await Promise.all([first, second])) {
          if (typeof settled === 'string')
            expect(settled).toMatch(/^(OK|ERROR|NO CARRIER|\+CM[ES] ERROR:.*)$/);
          else expect(settled instanceof AtTimeoutError || settled instanceof AtDesyncError).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });
});

/** The order URCs appear on the wire for one exchange. */
function URC_ORDER(x: Exchange): string[] {
  const out: string[] = [];
  for (let i = 0; i <= x.lines.length; i++) {
    for (const u of x.urcs) if (Math.min(u.at, x.lines.length) === i) out.push(u.line);
  }
  return out;
}
