import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CATALOGUE_HOST } from '../../certs/catalogue/index.ts';
import { readRecords } from '../../reports/results-log.ts';
import { readRunManifest } from '../../reports/run-manifest.ts';
import { dialledNames } from '../../suites/plan-case.ts';
import { type SimOptions, type SimServer, startSimServer } from '../cli/sim-command.ts';
import { acquireDeviceLock } from './device-lock.ts';
import { parseInventory } from './inventory.ts';
import { type LabEvent, runLab } from './lab-run.ts';
import type { LabSummary } from './lab-summary.ts';

/** The virtual modems resolve the catalogue's names to the loopback broker, as a lab's DNS would. */
const HOSTS = dialledNames(CATALOGUE_HOST).map((n) => `${n}=127.0.0.1`);
const CASES = '[anchors::right-ca, anchors::wrong-ca]';

const sims: SimServer[] = [];
let pdu: Server | null = null;
afterEach(async () => {
  for (const s of sims.splice(0)) await s.stop();
  await new Promise<void>((resolve) => (pdu ? pdu.close(() => resolve()) : resolve()));
  pdu = null;
});

async function sim(options: Partial<SimOptions> = {}, port = 0): Promise<SimServer> {
  const s = await startSimServer({
    listen: `tcp://127.0.0.1:${port}`,
    profile: 'strict',
    family: 'quectel',
    host: HOSTS,
    ...options,
  });
  sims.push(s);
  return s;
}

/**
 * A stand-in for a lab's power switch (PDU, USB hub): the inventory's shell command asks it, over
 * loopback HTTP, to power-cycle a device; "power" here is the virtual modem behind a port, which
 * comes back fresh (without its injected fault) on the same port.
 */
async function fakePdu(cycle: (name: string) => Promise<void>): Promise<{ port: number; cycled: string[] }> {
  const cycled: string[] = [];
  pdu = createServer((req, res) => {
    const name = /^\/cycle\/([\w-]+)$/.exec(req.url ?? '')?.[1];
    if (!name) return res.writeHead(404).end();
    cycled.push(name);
    void cycle(name).then(
      () => res.writeHead(200).end('cycled'),
      (error: Error) => res.writeHead(500).end(error.message),
    );
  });
  await new Promise<void>((resolve) => pdu?.listen(0, '127.0.0.1', resolve));
  return { port: (pdu.address() as AddressInfo).port, cycled };
}

const hook = (pduPort: number, name: string) =>
  `${process.execPath} -e "fetch('http://127.0.0.1:${pduPort}/cycle/${name}').then((r) => process.exit(r.ok ? 0 : 1))"`;

function labEnv(dir: string) {
  return {
    lockDir: join(dir, 'locks'),
    env: {
      ...process.env,
      TRUSTLAB_LOCK_DIR: join(dir, 'locks'),
      TRUSTLAB_RESET_BUDGET: join(dir, 'reset-budget.json'),
    },
  };
}

const device = (summary: LabSummary, name: string) => {
  const d = summary.devices.find((x) => x.name === name);
  if (!d) throw new Error(`no ${name} in the summary`);
  return d;
};

describe('trustlab lab on virtual modems served over loopback TCP', () => {
  it('runs two devices in parallel; a hung one is power-cycled and then runs; a wrong firmware is excluded with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-lab-'));
    const healthy = await sim();
    // Hung: the first AT waits a minute; only a power cycle brings it back.
    const hungFault = { kind: 'slow-answer', on: { command: '^AT$' }, delayMs: 60_000 } as const;
    const configFile = join(dir, 'hung.json');
    writeFileSync(configFile, JSON.stringify({ faults: [hungFault] }));
    let hung = await sim({ config: configFile });
    const hungPort = hung.port;
    const { port: pduPort, cycled } = await fakePdu(async (name) => {
      if (name !== 'hung') throw new Error(`no outlet ${name}`);
      await hung.stop();
      sims.splice(sims.indexOf(hung), 1);
      hung = await sim({}, hungPort);
    });
    const wrong = await sim({ firmware: 'EC200UCNAAR01A01M08' });
    const inventory = parseInventory(
      `
healthTimeoutMs: 1000
devices:
  - name: good
    port: tcp://127.0.0.1:${healthy.port}
    model: EC200U
    firmware: EC200UCNAAR03A03M08
    allowUnanswered: [registration]
    owned: { filePrefix: bench2_, sslContext: 2, mqttClient: 3 }
    run: { dialName: ${CATALOGUE_HOST}, cases: ${CASES} }
  - name: hung
    port: tcp://127.0.0.1:${hungPort}
    firmware: EC200UCNAAR03A03M08
    allowUnanswered: [registration]
    powerCycle: { command: "${hook(pduPort, 'hung').replaceAll('"', '\\"')}", timeoutMs: 10000, settleMs: 200 }
    run: { dialName: ${CATALOGUE_HOST}, cases: ${CASES} }
  - name: wrong-fw
    port: tcp://127.0.0.1:${wrong.port}
    firmware: EC200UCNAAR03A03M08
    allowUnanswered: [registration]
    run: { dialName: ${CATALOGUE_HOST}, cases: ${CASES} }
`,
      'lab.yaml',
    );
    const events: LabEvent[] = [];
    const out = join(dir, 'lab');
    const summary = await runLab({ inventory, outDir: out, emit: (e) => events.push(e), ...labEnv(dir) });

    expect(summary.devices.map((d) => [d.name, d.status])).toEqual([
      ['good', 'complete'],
      ['hung', 'complete'],
      ['wrong-fw', 'excluded'],
    ]);
    // The hung device: health check not answered → power cycle through the hook → healthy → run.
    const h = device(summary, 'hung');
    expect(cycled).toEqual(['hung']);
    expect(h.powerCycles).toHaveLength(1);
    expect(h.powerCycles[0]).toMatchObject({ ok: true, timedOut: false, exitCode: 0 });
    expect(h.health.map((r) => r.healthy)).toEqual([false, true]);
    expect(h.health[0]?.reason).toBe('at not-answered: AT: no answer');
    // The excluded device never ran, and says why.
    const w = device(summary, 'wrong-fw');
    expect(w.reason).toMatch(
      /^health check: identity fail: expected firmware EC200UCNAAR03A03M08, the device says .*EC200UCNAAR01A01M08/,
    );
    expect(existsSync(w.runDir)).toBe(false);
    // The two that ran: one folder each, each with its own record from its own modem.
    for (const name of ['good', 'hung']) {
      const d = device(summary, name);
      const records = readRecords(join(d.runDir, 'results.jsonl'));
      expect(records.map((r) => [r.case, r.outcome])).toEqual([
        ['anchors::right-ca', 'accepted'],
        ['anchors::wrong-ca', 'rejected'],
      ]);
      expect(d.counts).toMatchObject({ accepted: 1, rejected: 1, blocked: 0 });
      expect(readRunManifest(d.runDir)?.device).toBe(d.path);
    }
    // The inventory's ownership reaches the run: recorded with its settings, used on the module.
    const good = device(summary, 'good');
    expect(readRunManifest(good.runDir)?.settings).toMatchObject({
      owned: { filePrefix: 'bench2_', sslContext: 2, mqttClient: 3 },
    });
    const goodRecord = readRecords(join(good.runDir, 'results.jsonl'))[0];
    const transcript = readFileSync(join(good.runDir, goodRecord?.transcriptFile ?? ''), 'utf8');
    expect(transcript).toContain('AT+QMTCFG="ssl",3,1,2');
    expect(transcript).toMatch(/AT\+QSSLCFG="cacert",2,"UFS:bench2_/);
    expect(readFileSync(join(out, 'lab.md'), 'utf8')).toContain(
      '- owned: file prefix `bench2_`, SSL context 2, MQTT client 3',
    );
    expect(healthy.modem.tlsAttempts().length).toBeGreaterThan(0);
    expect(hung.modem.tlsAttempts().length).toBeGreaterThan(0);
    expect(wrong.modem.tlsAttempts()).toHaveLength(0);
    // Progress per device, tagged with the inventory name, case n/N.
    const ends = events.filter((e) => e.event === 'case-end');
    expect(new Set(ends.map((e) => e.device))).toEqual(new Set(['good', 'hung']));
    expect(ends.find((e) => e.device === 'good' && e.case === 'anchors::wrong-ca')).toMatchObject({ n: 2 });
    expect(events.filter((e) => e.event === 'device-end').map((e) => [e.device, e.status])).toEqual(
      expect.arrayContaining([
        ['good', 'complete'],
        ['hung', 'complete'],
        ['wrong-fw', 'excluded'],
      ]),
    );
    // The summary across devices, for people and machines.
    const md = readFileSync(join(out, 'lab.md'), 'utf8');
    expect(md).toContain('| good |');
    expect(md).toMatch(/\| wrong-fw \| .* \| excluded \|/);
    expect(JSON.parse(readFileSync(join(out, 'lab.json'), 'utf8')).devices).toHaveLength(3);
    expect(readFileSync(join(out, 'hung', 'health.txt'), 'utf8')).toContain('>> AT\\r');
    // Every lock is given back.
    const again = acquireDeviceLock(`tcp://127.0.0.1:${healthy.port}`, {
      what: 'after',
      dir: join(dir, 'locks'),
    });
    again.release();
  }, 180_000);

  /** A virtual modem with injected faults behind a port, and the PDU that brings it back without them. */
  async function flakyDevice(dir: string, faults: readonly object[]) {
    const configFile = join(dir, 'faults.json');
    writeFileSync(configFile, JSON.stringify({ faults }));
    let modem = await sim({ config: configFile });
    const port = modem.port;
    const pdu = await fakePdu(async () => {
      await modem.stop();
      sims.splice(sims.indexOf(modem), 1);
      modem = await sim({}, port);
    });
    return { port, pdu, modem: () => modem };
  }

  const flakyInventory = (port: number, pduPort: number, extra: string) =>
    parseInventory(
      `
healthTimeoutMs: 1000
maxResumes: 2
${extra}
devices:
  - name: flaky
    port: tcp://127.0.0.1:${port}
    allowUnanswered: [registration]
    powerCycle: { command: "${hook(pduPort, 'flaky').replaceAll('"', '\\"')}", timeoutMs: 10000, settleMs: 200 }
    run: { dialName: ${CATALOGUE_HOST}, cases: [anchors::right-ca, anchors::wrong-ca, anchors::no-ca-uploaded] }
`,
      'lab.yaml',
    );

  it('a run that goes silent mid-case is killed, the device power-cycled and the run resumed to completion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-lab-'));
    // The second case's +QMTOPEN never comes: the driver would wait its full 120 s bound; the lab's
    // stall watchdog stops the run long before, with nothing recorded for that case.
    const { port, pdu } = await flakyDevice(dir, [{ kind: 'lose-urc', urc: '^\\+QMTOPEN:', occurrence: 2 }]);
    const events: LabEvent[] = [];
    const summary = await runLab({
      inventory: flakyInventory(port, pdu.port, 'stallTimeoutMs: 12000'),
      outDir: join(dir, 'lab'),
      emit: (e) => events.push(e),
      ...labEnv(dir),
    });
    const d = device(summary, 'flaky');
    expect(pdu.cycled).toEqual(['flaky']);
    expect(d.sessions).toBe(2);
    expect(events.filter((e) => e.event === 'run-start').map((e) => e.resumed)).toEqual([false, true]);
    expect(d.status).toBe('complete');
    expect(d.counts).toMatchObject({ accepted: 1, rejected: 2, blocked: 0, inconclusive: 0 });
    const manifest = readRunManifest(d.runDir);
    expect(manifest?.status).toBe('complete');
    expect(manifest?.sessions).toHaveLength(2);
    expect(readFileSync(join(dir, 'lab', 'flaky', 'run.log'), 'utf8')).toContain('no progress for 12000 ms');
  }, 180_000);

  it('a device that stops answering mid-run: the lab reports its blocked cases and why, power-cycles and resumes to completion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-lab-'));
    // A CA upload never answered: the harness gives up on the device within its bounded waits and
    // the suite's latch records every later case as blocked.
    const { port, pdu } = await flakyDevice(dir, [
      { kind: 'slow-answer', on: { command: '^AT\\+QMTOPEN=', occurrence: 2 }, delayMs: 60_000 },
    ]);
    const events: LabEvent[] = [];
    const summary = await runLab({
      inventory: flakyInventory(port, pdu.port, ''),
      outDir: join(dir, 'lab'),
      emit: (e) => events.push(e),
      ...labEnv(dir),
    });
    const d = device(summary, 'flaky');
    const firstEnd = events.find((e) => e.event === 'run-end');
    expect(firstEnd).toMatchObject({ device: 'flaky', status: 'incomplete', blocked: 1 });
    const cycle = events.find((e) => e.event === 'power-cycle');
    expect(String(cycle?.why)).toMatch(/^device unhealthy after anchors::wrong-ca: /);
    expect(pdu.cycled).toEqual(['flaky']);
    expect(events.filter((e) => e.event === 'run-start').map((e) => e.resumed)).toEqual([false, true]);
    expect(d.health.map((h) => h.healthy)).toEqual([true, true]);
    expect(d.sessions).toBeLessThanOrEqual(3);
    // The case recorded on the broken device is run again after the power cycle, so the run completes.
    const latest = new Map(readRecords(join(d.runDir, 'results.jsonl')).map((r) => [r.case, r.outcome]));
    expect([...latest.values()]).not.toContain('blocked');
    expect(latest.get('anchors::wrong-ca')).toBe('rejected');
    expect(d.counts.blocked).toBe(0);
    expect(d.status).toBe('complete');
  }, 180_000);

  it('a device another process holds is excluded with the holder named, and its modem is not touched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-lab-'));
    const busy = await sim();
    const inventory = parseInventory(
      `devices:\n  - name: busy\n    port: tcp://127.0.0.1:${busy.port}\n    allowUnanswered: [registration]\n`,
      'lab.yaml',
    );
    const { lockDir, env } = labEnv(dir);
    const held = acquireDeviceLock(`tcp://127.0.0.1:${busy.port}`, { what: 'someone else', dir: lockDir });
    try {
      const summary = await runLab({ inventory, outDir: join(dir, 'lab'), emit: () => {}, lockDir, env });
      expect(summary.devices[0]?.status).toBe('excluded');
      expect(summary.devices[0]?.reason).toMatch(/is in use by process \d+ \(someone else/);
      expect(summary.devices[0]?.health).toEqual([]);
    } finally {
      held.release();
    }
  });
});
