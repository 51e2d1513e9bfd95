import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatTranscript, Transcript } from '../../harness/at/transcript.ts';
import { openTransport, parseDeviceAddress } from '../../harness/transport/open.ts';
import type { CaseRecord } from '../../reports/record.ts';
import { latestPerCase, RESULTS_FILE, readRecords } from '../../reports/results-log.ts';
import { readRunManifest } from '../../reports/run-manifest.ts';
import { acquireDeviceLock, type DeviceLock } from './device-lock.ts';
import { type ChildRunResult, runDeviceChild } from './device-run.ts';
import { checkHealth, type HealthReport } from './health.ts';
import { devicePath, type Inventory, type InventoryDevice } from './inventory.ts';
import { type DeviceSummary, emptyCounts, type LabSummary, writeLabSummary } from './lab-summary.ts';
import { type PowerCycleResult, runPowerCycle } from './power-cycle.ts';

/** Everything the lab reports as it goes; `device` is always the inventory name. */
export type LabEvent = { readonly event: string; readonly device?: string } & Record<string, unknown>;

export interface LabOptions {
  readonly inventory: Inventory;
  readonly outDir: string;
  /** Only these devices (inventory names). */
  readonly only?: readonly string[];
  readonly emit: (event: LabEvent) => void;
  /** Generate each device's Allure HTML report (slow; off by default in lab runs). */
  readonly allureReport?: boolean;
  /** The profile each device's Allure and JUnit results judge by (default rfc5280). */
  readonly profile?: string;
  /** Devices run at the same time (default: all). */
  readonly parallel?: number;
  readonly lockDir?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export class LabUsageError extends Error {}

/** The devices a lab run is asked for, in inventory order; an unknown name is a usage error. */
export function selectDevices(inventory: Inventory, only?: readonly string[]): InventoryDevice[] {
  if (!only || only.length === 0) return [...inventory.devices];
  const names = new Set(inventory.devices.map((d) => d.name));
  const unknown = only.filter((n) => !names.has(n));
  if (unknown.length > 0) {
    throw new LabUsageError(
      `--only: no device named ${unknown.join(', ')} in ${inventory.file} (known: ${[...names].join(', ')})`,
    );
  }
  return inventory.devices.filter((d) => only.includes(d.name));
}

/**
 * A lab run: for each device, in parallel, take its lock, check its health, run `trustlab run` in a
 * child process, and when the run ends incomplete (a hung device, its remaining cases blocked)
 * power-cycle it and resume, a bounded number of times. Writes lab.json and lab.md as devices end.
 */
export async function runLab(options: LabOptions): Promise<LabSummary> {
  const devices = selectDevices(options.inventory, options.only);
  mkdirSync(options.outDir, { recursive: true });
  const summary: LabSummary = {
    schema: 1,
    inventory: options.inventory.file,
    outDir: options.outDir,
    startedAt: new Date().toISOString(),
    endedAt: null,
    devices: devices.map((d) => pendingSummary(d, options.outDir)),
  };
  writeLabSummary(summary);
  options.emit({ event: 'lab-start', outDir: options.outDir, devices: devices.map((d) => d.name) });
  const interrupts = new Set<() => void>();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    for (const stop of interrupts) stop();
  };
  process.on('SIGINT', onSigint);
  try {
    const queue = devices.map((d, i) => ({ d, i }));
    const workers = Array.from({ length: Math.max(1, options.parallel ?? devices.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const { d, i } = next;
        summary.devices[i] = await runOneDevice(d, options, interrupts, () => interrupted);
        writeLabSummary(summary);
        const { name, status, reason, counts, sessions, powerCycles, runDir } = summary.devices[
          i
        ] as DeviceSummary;
        options.emit({
          event: 'device-end',
          device: name,
          status,
          reason,
          counts,
          sessions,
          powerCycles: powerCycles.length,
          runDir,
        });
      }
    });
    await Promise.all(workers);
  } finally {
    process.off('SIGINT', onSigint);
  }
  summary.endedAt = new Date().toISOString();
  writeLabSummary(summary);
  options.emit({ event: 'lab-end', outDir: options.outDir, summary: join(options.outDir, 'lab.md') });
  return summary;
}

function pendingSummary(d: InventoryDevice, outDir: string): DeviceSummary {
  return {
    name: d.name,
    path: devicePath(d),
    driver: d.driver,
    capabilities: d.capabilities,
    owned: d.owned ?? null,
    status: 'pending',
    reason: null,
    health: [],
    powerCycles: [],
    sessions: 0,
    runDir: join(outDir, d.name, 'run'),
    identity: null,
    counts: emptyCounts(),
    blockedReason: null,
  };
}

async function runOneDevice(
  d: InventoryDevice,
  options: LabOptions,
  interrupts: Set<() => void>,
  interrupted: () => boolean,
): Promise<DeviceSummary> {
  const dir = join(options.outDir, d.name);
  mkdirSync(dir, { recursive: true });
  const base = pendingSummary(d, options.outDir);
  const path = devicePath(d);
  const say = (event: string, fields: Record<string, unknown> = {}) =>
    options.emit({ event, device: d.name, ...fields });
  const exclude = (reason: string, extra: Partial<DeviceSummary> = {}): DeviceSummary => {
    say('excluded', { reason });
    return { ...base, ...extra, status: 'excluded', reason };
  };

  let lock: DeviceLock;
  try {
    lock = acquireDeviceLock(path, {
      what: `trustlab lab ${d.name}`,
      ...(options.lockDir ? { dir: options.lockDir } : {}),
    });
  } catch (error) {
    return exclude((error as Error).message);
  }
  const health: HealthReport[] = [];
  const powerCycles: PowerCycleResult[] = [];
  try {
    const check = async () => {
      const report = await healthCheck(d, options.inventory.healthTimeoutMs, join(dir, 'health.txt'));
      health.push(report);
      say('health', { healthy: report.healthy, reason: report.reason, checks: report.checks });
      return report;
    };
    const cycle = async (why: string) => {
      if (!d.powerCycle) return false;
      say('power-cycle', { why, command: d.powerCycle.command });
      const result = await runPowerCycle(d.powerCycle, { name: d.name, path });
      powerCycles.push(result);
      say('power-cycled', { ...result });
      if (result.ok) await sleep(d.powerCycle.settleMs);
      return result.ok;
    };

    let report = await check();
    // A device that does not even answer AT may be hung: that is what the power-cycle hook is for.
    if (!report.healthy && report.checks[0]?.status !== 'pass' && (await cycle(`health: ${report.reason}`))) {
      report = await check();
    }
    if (!report.healthy) return exclude(`health check: ${report.reason}`, { health, powerCycles });

    const runDir = base.runDir;
    let sessions = 0;
    let last: ChildRunResult | null = null;
    let progressBefore = -1;
    let stopped: string | null = null;
    for (;;) {
      const resume = sessions > 0 && readRunManifest(runDir)?.settings !== undefined;
      sessions++;
      const child = runDeviceChild({
        devicePath: path,
        driver: d.driver,
        ...(d.owned ? { owned: d.owned } : {}),
        runDir,
        resume,
        run: d.run,
        allureReport: options.allureReport ?? false,
        ...(options.profile ? { profile: options.profile } : {}),
        lockToken: lock.token,
        stallTimeoutMs: options.inventory.stallTimeoutMs,
        logFile: join(dir, 'run.log'),
        onEvent: (e) =>
          options.emit({ ...e, event: String(e.event), device: d.name, port: e.device ?? path }),
        ...(options.env ? { env: options.env } : {}),
      });
      interrupts.add(child.interrupt);
      last = await child.done;
      interrupts.delete(child.interrupt);
      const state = runState(runDir);
      if (state.status === 'complete' || interrupted()) break;
      // A resume that recorded nothing more would only repeat itself.
      if (state.done <= progressBefore) {
        stopped = 'the resume recorded no further case';
        break;
      }
      progressBefore = state.done;
      // A power cycle helps a hung or faulty module, not a case that failed before TLS on a healthy one.
      const faulty =
        last.stalled ||
        last.error !== null ||
        state.blockedReason !== null ||
        state.records.some((r) => r.device.healthy === false) ||
        (last.exitCode !== 0 && last.exitCode !== null);
      if (!faulty) {
        stopped =
          'the run ended with inconclusive cases on a healthy device; a power cycle would not change them';
        break;
      }
      if (sessions > options.inventory.maxResumes) {
        stopped = `${options.inventory.maxResumes} resume(s) allowed (maxResumes)`;
        break;
      }
      const why = last.stalled
        ? `no progress for ${options.inventory.stallTimeoutMs} ms`
        : (state.blockedReason ?? last.error ?? `run ended ${state.status ?? 'without a record'}`);
      if (!d.powerCycle) {
        stopped = 'no powerCycle command in the inventory, so not resumed';
        break;
      }
      if (!(await cycle(why))) {
        stopped = 'the power cycle failed';
        break;
      }
      const after = await check();
      if (!after.healthy) {
        stopped = `after the power cycle: ${after.reason}`;
        break;
      }
    }
    const state = runState(runDir);
    const complete = state.status === 'complete';
    return {
      ...base,
      status: complete ? 'complete' : state.records.length > 0 ? 'incomplete' : 'failed',
      reason: complete ? null : incompleteReason(state, last, interrupted(), stopped),
      health,
      powerCycles,
      sessions,
      identity: report.reported,
      counts: state.counts,
      blockedReason: state.blockedReason,
      ...(existsSync(join(runDir, 'report.md')) ? { report: join(runDir, 'report.md') } : {}),
      ...(existsSync(join(runDir, 'evidence.html')) ? { evidence: join(runDir, 'evidence.html') } : {}),
    };
  } finally {
    lock.release();
  }
}

function incompleteReason(
  state: ReturnType<typeof runState>,
  last: ChildRunResult | null,
  interrupted: boolean,
  stopped: string | null,
): string {
  if (interrupted) return 'interrupted (Ctrl-C)';
  const what = last?.stalled
    ? 'killed after no progress'
    : (state.blockedReason ?? last?.error ?? `trustlab run exited ${last?.exitCode ?? last?.signal}`);
  return stopped ? `${what} (stopped: ${stopped})` : what;
}

/** What a device's run folder holds now: status, counts and why cases were blocked. */
function runState(runDir: string) {
  const file = join(runDir, RESULTS_FILE);
  const records: CaseRecord[] = existsSync(file) ? latestPerCase(readRecords(file)) : [];
  const counts = emptyCounts();
  for (const r of records) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  return {
    status: existsSync(runDir) ? (readRunManifest(runDir)?.status ?? null) : null,
    records,
    counts,
    done: records.filter((r) => r.outcome !== 'blocked').length,
    blockedReason: records.find((r) => r.outcome === 'blocked')?.reason ?? null,
  };
}

/** Opens the port, runs the read-only checks, closes it again, and keeps the transcript. */
async function healthCheck(
  d: InventoryDevice,
  timeoutMs: number,
  transcriptFile: string,
): Promise<HealthReport> {
  const path = devicePath(d);
  const transcript = new Transcript();
  const started = Date.now();
  let report: HealthReport;
  try {
    const stream = await openTransport(parseDeviceAddress(path), { timeoutMs: 5_000 });
    try {
      report = await checkHealth(stream, d, { timeoutMs, transcript });
    } finally {
      await new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.destroy();
        setTimeout(resolve, 1_000).unref();
      });
    }
  } catch (error) {
    const detail = `cannot open ${path}: ${(error as Error).message}`;
    report = {
      device: d.name,
      healthy: false,
      reason: `at not-answered: ${detail}`,
      checks: [{ name: 'at', status: 'not-answered', exchanges: [], detail }],
      reported: { model: null, firmware: null },
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
    };
  }
  appendFileSync(
    transcriptFile,
    `# health check ${report.startedAt} → ${report.healthy ? 'healthy' : report.reason}\n${formatTranscript(transcript.since(0))}\n\n`,
  );
  return report;
}
