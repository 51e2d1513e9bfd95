/**
 * `npm run bench:harness`: how much time the harness adds on top of the device's own time, and how
 * well a lab run spreads over several devices.
 *
 * Devices: virtual Quectel modems served over loopback TCP (`trustlab sim`) with a realistic
 * latency model: 20 ms per command, 75 ms LTE round trip (TCP connect, each MQTT exchange), 2 round
 * trips per TLS handshake — all spent (the modem sleeps them) — and a 115200 baud 8N1 serial line,
 * spent and counted by a relay in front of each modem, both ways. (The modem's own baud-rate model
 * only accounts host→modem bytes without spending them.) Every modelled millisecond is a real one.
 *
 *   overhead_ratio  = harness wall time ÷ modelled device time, over the case phase of one device
 *                     (first case start → run end; the one-off health check, vitest start and report
 *                     writing are printed apart). Target ≤ 1.05.
 *   parallel8_ratio = wall of one lab run on 8 devices ÷ (8 × wall of the same lab run on one
 *                     device), whole runs. Target ≤ 0.2.
 *
 * Both go through `trustlab lab` (health check, lock, one `trustlab run` child per device) over the
 * whole default matrix, as a lab runs it (about 3 min per device at this latency, 8 min in all).
 * For a quicker look: TRUSTLAB_BENCH_CASES=subset runs a fixed 12-case subset (BENCH_CASES; the
 * fixed costs of each run then weigh more), TRUSTLAB_BENCH_SINGLE=1 only the one-device run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SimServer, startSimServer } from '../app/cli/sim-command.ts';
import { parseInventory } from '../app/lab/inventory.ts';
import { type LabEvent, runLab } from '../app/lab/lab-run.ts';
import { CATALOGUE_HOST } from '../certs/catalogue/index.ts';
import { DEFAULT_FAMILY } from '../harness/families.ts';
import type { LatencyModel } from '../harness/virtual-modem/latency.ts';
import { defaultMatrix } from '../suites/matrix.ts';
import { dialledNames } from '../suites/plan-case.ts';

const LATENCY: LatencyModel = { baudRate: 115_200, commandMs: 20, networkRttMs: 75, tlsRoundTrips: 2 };

/** A fixed subset: the sanity pair, a hostname case, validity, anchors, chains of several lengths. */
const BENCH_CASES = [
  'anchors::right-ca',
  'anchors::wrong-ca',
  'names::san-mismatch',
  'validity::leaf-expired',
  'anchors::no-ca-uploaded',
  'anchors::v1-root',
  'anchors::root-without-basic-constraints',
  'chains::intermediates-2',
  'chains::intermediates-4',
  'chains::intermediate-not-sent',
  'chains::reverse-order',
  'validity::leaf-not-yet-valid',
];

/** null: no case filter, so each device runs exactly what `trustlab run` runs by default (rotation included). */
const subset = process.env.TRUSTLAB_BENCH_CASES === 'subset' ? BENCH_CASES : null;
const singleOnly = process.env.TRUSTLAB_BENCH_SINGLE === '1';
const known = new Set(defaultMatrix().map((c) => c.id));
const unknown = (subset ?? []).filter((c) => !known.has(c));
if (unknown.length > 0) throw new Error(`bench cases not in the default matrix: ${unknown.join(', ')}`);

/**
 * One direction of a UART: chunks leave in order, each after its 10 bit times per byte. One timer
 * at a time, so order holds whatever the chunk sizes (independent timers of different fractional
 * delays may fire out of order in Node).
 */
class PacedPipe {
  readonly #queue: Buffer[] = [];
  #freeAt = 0;
  #pumping = false;
  bytes = 0;
  constructor(
    private readonly out: Socket,
    private readonly baudRate: number,
  ) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.#queue.push(chunk);
    if (!this.#pumping) this.#pump();
  }

  #pump(): void {
    // Timers fire a millisecond late at best: a chunk due within the next millisecond goes now,
    // so the line keeps its modelled speed on average instead of adding a timer tick per chunk.
    for (;;) {
      const chunk = this.#queue.shift();
      if (!chunk) {
        this.#pumping = false;
        return;
      }
      this.#pumping = true;
      this.#freeAt = Math.max(performance.now(), this.#freeAt) + (chunk.length * 10 * 1000) / this.baudRate;
      const wait = this.#freeAt - performance.now();
      if (wait < 1) {
        if (!this.out.destroyed) this.out.write(chunk);
        continue;
      }
      setTimeout(() => {
        if (!this.out.destroyed) this.out.write(chunk);
        this.#pump();
      }, wait);
      return;
    }
  }
}

/**
 * The serial line between host and modem, both ways, in front of a modem served over TCP. The
 * modem itself runs without a baud rate: its model paces only its output, and the host's commands
 * and uploads cost line time too, so both directions are counted here.
 */
async function serialLine(targetPort: number, baudRate: number) {
  const pipes: PacedPipe[] = [];
  const server = createServer((client: Socket) => {
    const upstream = connect(targetPort, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const toModem = new PacedPipe(upstream, baudRate);
    const toHost = new PacedPipe(client, baudRate);
    pipes.push(toModem, toHost);
    client.on('data', (chunk: Buffer) => toModem.push(chunk));
    upstream.on('data', (chunk: Buffer) => toHost.push(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('close', end);
      socket.on('error', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    server,
    /** Modelled serial time so far: every byte both ways, 10 bit times each. */
    serialMs: () => (pipes.reduce((n, p) => n + p.bytes, 0) * 10 * 1000) / baudRate,
  };
}

interface Bench {
  sims: SimServer[];
  lines: Awaited<ReturnType<typeof serialLine>>[];
}

/** Modelled device time of one bench device: the modem's commands and network, and its serial line. */
const modelledMs = (bench: Bench, i: number) =>
  (bench.sims[i]?.modem.deviceTime().totalMs ?? Number.NaN) + (bench.lines[i]?.serialMs() ?? Number.NaN);

async function startDevices(n: number, work: string): Promise<Bench> {
  const bench: Bench = { sims: [], lines: [] };
  // The modem's share of the model reaches it the way `trustlab sim --config` takes it.
  const { baudRate, ...modemLatency } = LATENCY;
  const config = join(work, 'latency.json');
  writeFileSync(config, JSON.stringify({ latency: modemLatency }));
  for (let i = 0; i < n; i++) {
    const sim = await startSimServer({
      listen: 'tcp://127.0.0.1:0',
      profile: 'strict',
      family: DEFAULT_FAMILY,
      host: dialledNames(CATALOGUE_HOST).map((name) => `${name}=127.0.0.1`),
      config,
    });
    bench.sims.push(sim);
    bench.lines.push(await serialLine(sim.port, baudRate ?? 115_200));
  }
  return bench;
}

async function stopDevices(bench: Bench): Promise<void> {
  for (const l of bench.lines) await new Promise<void>((resolve) => l.server.close(() => resolve()));
  for (const s of bench.sims) await s.stop();
}

interface LabMeasure {
  wallMs: number;
  /** Per device: first case start → run end, and the modelled device time in that stretch. */
  phases: { wallMs: number; modelledMs: number; cases: number; statuses: string }[];
}

async function measureLab(devices: number, work: string): Promise<LabMeasure> {
  const bench = await startDevices(devices, work);
  try {
    const inventory = parseInventory(
      [
        'healthTimeoutMs: 3000',
        'devices:',
        ...bench.lines.flatMap(({ port }, i) => [
          `  - name: vm${i + 1}`,
          `    port: tcp://127.0.0.1:${port}`,
          '    allowUnanswered: [registration]',
          // JSON is YAML: case ids with brackets (`…[sni=0]`) must be quoted in a flow sequence.
          `    run: { dialName: ${CATALOGUE_HOST}${subset ? `, cases: ${JSON.stringify(subset)}` : ''} }`,
        ]),
      ].join('\n'),
      'bench-inventory.yaml',
    );
    const phase = new Map<string, { t0: number; m0: number; t1: number; m1: number; cases: number }>();
    const emit = (e: LabEvent) => {
      const name = e.device ?? '';
      const i = Number(name.slice(2)) - 1;
      if (e.event === 'case-start' && !phase.has(name)) {
        phase.set(name, { t0: Date.now(), m0: modelledMs(bench, i), t1: 0, m1: 0, cases: 0 });
      }
      const p = phase.get(name);
      if (p && e.event === 'case-end' && e.outcome !== 'skipped') p.cases++;
      if (p && e.event === 'run-end') Object.assign(p, { t1: Date.now(), m1: modelledMs(bench, i) });
    };
    const started = Date.now();
    const summary = await runLab({
      inventory,
      outDir: join(work, `lab-${devices}`),
      emit,
      lockDir: join(work, 'locks'),
      env: {
        ...process.env,
        TRUSTLAB_LOCK_DIR: join(work, 'locks'),
        TRUSTLAB_RESET_BUDGET: join(work, 'reset.json'),
      },
    });
    const wallMs = Date.now() - started;
    return {
      wallMs,
      phases: summary.devices.map((d) => {
        const p = phase.get(d.name);
        const c = d.counts;
        return {
          wallMs: p ? p.t1 - p.t0 : Number.NaN,
          modelledMs: p ? p.m1 - p.m0 : Number.NaN,
          cases: p?.cases ?? 0,
          statuses: `${d.status} (${c.accepted} accepted, ${c.rejected} rejected, ${c.inconclusive} inconclusive, ${c.blocked} blocked, ${c.skipped} skipped)${d.reason ? `: ${d.reason.slice(0, 300)}` : ''}`,
        };
      }),
    };
  } finally {
    await stopDevices(bench);
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** 8 devices at once: wall of the lab run ÷ (8 × the one-device lab run's wall). */
async function measureParallel(oneWallMs: number, work: string): Promise<number> {
  const eight = await measureLab(8, work);
  const parallel = eight.wallMs / (8 * oneWallMs);
  for (const [i, q] of eight.phases.entries()) {
    console.log(`  vm${i + 1}: ${q.statuses}; case phase ${s(q.wallMs)} for ${s(q.modelledMs)} modelled`);
  }
  console.log(
    `8 devices in parallel: lab run wall ${s(eight.wallMs)} vs 8 × ${s(oneWallMs)} sequential → ${parallel.toFixed(3)}`,
  );
  return parallel;
}

const work = mkdtempSync(join(tmpdir(), 'trustlab-bench-harness-'));
try {
  console.log(`latency model: ${JSON.stringify(LATENCY)} (the serial line, both ways, paced by a relay)`);
  console.log(
    subset
      ? `cases: ${subset.length} (fixed subset of the default matrix)`
      : 'cases: the default matrix, as `trustlab run` runs it',
  );
  const one = await measureLab(1, work);
  const p = one.phases[0];
  if (!p || !Number.isFinite(p.modelledMs) || p.modelledMs <= 0) {
    throw new Error(`the single-device run did not record its case phase: ${JSON.stringify(one)}`);
  }
  const overhead = p.wallMs / p.modelledMs;
  console.log(`1 device: ${p.statuses}`);
  console.log(
    `  lab run wall ${s(one.wallMs)}; case phase wall ${s(p.wallMs)}, modelled device time ${s(p.modelledMs)} → overhead ${overhead.toFixed(3)}`,
  );
  console.log(
    `  fixed costs outside the case phase (health check, vitest start, reports): ${s(one.wallMs - p.wallMs)}`,
  );
  const parallel = singleOnly ? null : await measureParallel(one.wallMs, work);
  console.log(
    `harness: cases=${p.cases} overhead_ratio=${overhead.toFixed(3)} parallel8_ratio=${parallel?.toFixed(3) ?? 'n/a'}`,
  );
} finally {
  if (process.env.TRUSTLAB_BENCH_KEEP) console.log(`kept: ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
