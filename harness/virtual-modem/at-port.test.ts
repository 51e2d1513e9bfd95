import { describe, expect, it } from 'vitest';
import { createMemoryPair } from '../transport/memory-pair.ts';
import { AtPort } from './at-port.ts';
import { FaultPlan } from './faults.ts';
import { LatencyClock } from './latency.ts';

/** An AtPort at 115200 baud and what its host side has received once `length` bytes arrived (5 s bound). */
function portAt115200() {
  const [host, modemSide] = createMemoryPair();
  const port = new AtPort(modemSide, new LatencyClock({ baudRate: 115_200 }), new FaultPlan());
  let text = '';
  let waiting: { length: number; resolve: (t: string) => void } | null = null;
  host.on('data', (b: Buffer) => {
    text += b.toString('latin1');
    if (waiting && text.length >= waiting.length) waiting.resolve(text);
  });
  // Resolves on the data event that completes `length` bytes; at the bound, with what came.
  const received = (length: number) =>
    new Promise<string>((resolve) => {
      if (text.length >= length) return resolve(text);
      const bound = setTimeout(() => resolve(text), 5_000);
      waiting = {
        length,
        resolve: (t) => {
          clearTimeout(bound);
          waiting = null;
          resolve(t);
        },
      };
    });
  return { port, received };
}

describe('AtPort output under a serial latency model', () => {
  it('keeps every byte in the order written, whatever the chunk sizes and write times', async () => {
    const { port, received } = portAt115200();
    let expected = '';
    // Bursts of long and short chunks, some written from later timers while earlier ones still wait.
    for (let burst = 0; burst < 20; burst++) {
      await new Promise((r) => setTimeout(r, burst % 3));
      for (let i = 0; i < 10; i++) {
        const chunk = `<${burst}.${i}:${'x'.repeat((burst * 7 + i * 13) % 40)}>`;
        expected += chunk;
        port.write(chunk);
      }
    }
    expect(await received(expected.length)).toBe(expected);
  });

  it('keeps order when writes straddle millisecond boundaries within one tick', async () => {
    const { port, received } = portAt115200();
    let expected = '';
    for (let i = 0; i < 300; i++) {
      const chunk = `<${i}:${'x'.repeat((i * 17) % 23)}>`;
      expected += chunk;
      port.write(chunk);
      const until = performance.now() + ((i * 7) % 10) / 10; // 0-0.9 ms: Date.now ticks mid-burst
      while (performance.now() < until);
    }
    expect(await received(expected.length)).toBe(expected);
  });

  it('spends the modelled serial time before the last byte arrives', async () => {
    const [host, modemSide] = createMemoryPair();
    const port = new AtPort(modemSide, new LatencyClock({ baudRate: 9_600 }), new FaultPlan());
    const started = Date.now();
    const done = new Promise<number>((resolve) => {
      let n = 0;
      host.on('data', (b: Buffer) => {
        n += b.length;
        if (n >= 480) resolve(Date.now() - started);
      });
    });
    for (let i = 0; i < 4; i++) port.write('y'.repeat(120)); // 480 bytes at 9600 baud: 500 ms
    expect(await done).toBeGreaterThanOrEqual(490);
  });
});
