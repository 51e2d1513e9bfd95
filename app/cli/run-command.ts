import { existsSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reporter } from 'vitest/node';
import { startVitest } from 'vitest/node';
import {
  type DeviceOwnership,
  foreignOwnershipKeys,
  OWNERSHIP_FLAGS,
  ownershipProblems,
  parseSecTags,
} from '../../harness/drivers/ownership.ts';
import { familyNamed } from '../../harness/families.ts';
import { HarnessCheckReporter, writeHarnessFaults } from '../../reports/harness-faults.ts';
import { harnessIdentity } from '../../reports/harness-identity.ts';
import { humanProgress, jsonProgress, ProgressReporter } from '../../reports/progress.ts';
import { evaluateGate } from '../../reports/quality-gate.ts';
import type { CaseRecord } from '../../reports/record.ts';
import { latestPerCase, readRecords, repairResults } from '../../reports/results-log.ts';
import { acquireRunLock, isSettled, recordedCases } from '../../reports/resume.ts';
import { type RunManifest, readRunManifest, updateRunManifest } from '../../reports/run-manifest.ts';
import { formatShard, parseShard, type Shard } from '../../reports/shard.ts';
import { renderSummary } from '../../reports/summary.ts';
import { writeRunReports } from '../../reports/write-run-reports.ts';
import { RESULTS_FILE } from '../../suites/execute.ts';
import { NO_DIAL_NAME } from '../../suites/plan-case.ts';
import { publicProbeRefused } from '../../suites/public-probe.ts';
import { RUN_CONFIG_VARIABLE, type RunConfig } from '../../suites/run-config.ts';
import { acquireDeviceLock, LOCK_TOKEN_VARIABLE } from '../lab/device-lock.ts';
import { checkCases, checkDevice, checkOutDir, PreflightError, parseTcpDevice } from './preflight.ts';
import {
  planReporting,
  ReportingFlagError,
  type ReportingFlags,
  type ReportingPlan,
  resolveBaseline,
} from './reporting-options.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunOptions extends ReportingFlags {
  readonly device?: string;
  readonly driver: RunConfig['driver'];
  readonly personality: RunConfig['personality'];
  readonly engine?: RunConfig['engine'];
  readonly out?: string;
  readonly dialHost: string;
  readonly listenHost: string;
  /** Complete an interrupted run in this folder, with the settings recorded in its run.json. */
  readonly resume?: string;
  /** `i/n`: run one stable slice of the catalogue. */
  readonly shard?: string;
  /** Milliseconds to wait before each case. */
  readonly settle?: string | number;
  /** JSON lines on stdout instead of text. */
  readonly json?: boolean;
  /** Generate the Allure HTML report (default true; `--no-allure-report`). */
  readonly allureReport?: boolean;
  /** Run the full matrix instead of the default one. */
  readonly full?: boolean;
  /** Only these cases (comma-separated case ids or globs with `*`). */
  readonly cases?: string;
  /** A DNS name (three labels or more) the device resolves to the lab, for hostname cases. */
  readonly dialName?: string;
  /** Probe well-known public brokers with a wrong CA uploaded (real modems only). */
  readonly publicProbe?: boolean;
  /** Attempts for a case that fails before TLS. */
  readonly attempts?: string | number;
  /** The AT line's speed in baud (default 115200). */
  readonly baud?: string | number;
  /** Every case configured from scratch and restored at its end (no delta configuration). */
  readonly fromScratch?: boolean;
  /** Device resources the run may use instead of the driver's defaults. */
  readonly filePrefix?: string;
  readonly sslContext?: string | number;
  readonly mqttClient?: string | number;
  readonly secTags?: string;
}

const runId = () => new Date().toISOString().replace(/[:.]/g, '-');

class UsageError extends Error {}

function hasRecords(outDir: string): boolean {
  const file = join(outDir, RESULTS_FILE);
  return existsSync(file) && statSync(file).size > 0;
}

/** The folder and settings of this session: a new run, or the one recorded in the folder to resume. */
function planRun(options: RunOptions): { outDir: string; config: RunConfig; resumed: boolean } {
  if (options.resume) {
    const outDir = resolve(options.resume);
    let manifest: RunManifest | null;
    try {
      manifest = existsSync(outDir) ? readRunManifest(outDir) : null;
    } catch (error) {
      throw new UsageError(`--resume ${options.resume}: ${(error as Error).message}`);
    }
    const recorded = manifest?.settings as RunConfig | undefined;
    if (!recorded) throw new UsageError(`--resume ${options.resume}: no run.json with run settings there`);
    // The serial path may change after a power cycle; everything else must stay as recorded.
    const device = options.device ?? recorded.device;
    const settleMs = options.settle === undefined ? recorded.settleMs : Number(options.settle);
    return {
      outDir,
      config: { ...recorded, ...(device ? { device } : {}), ...(settleMs ? { settleMs } : {}), outDir },
      resumed: true,
    };
  }
  const outDir = resolve(options.out ?? join(PROJECT_ROOT, 'reports', 'out', runId()));
  if (hasRecords(outDir)) {
    throw new UsageError(
      `${outDir} already holds a run; complete it with --resume ${outDir}, or choose another --out`,
    );
  }
  const settleMs = Number(options.settle ?? 0);
  if (!Number.isFinite(settleMs) || settleMs < 0) throw new UsageError(`--settle expects milliseconds`);
  const attempts = options.attempts === undefined ? undefined : Number(options.attempts);
  if (attempts !== undefined && !(Number.isInteger(attempts) && attempts >= 1 && attempts <= 10)) {
    throw new UsageError('--attempts expects a whole number from 1 to 10');
  }
  const baud = options.baud === undefined ? undefined : Number(options.baud);
  if (baud !== undefined && !(Number.isInteger(baud) && baud >= 300 && baud <= 4_000_000)) {
    throw new UsageError('--baud expects the line speed in baud, e.g. 9600 or 115200');
  }
  const owned = ownershipFromOptions(options);
  const publicProbeRefusal = options.publicProbe ? publicProbeRefused(options.device, process.env) : null;
  if (publicProbeRefusal) throw new UsageError(publicProbeRefusal);
  if (options.device?.startsWith('tcp://')) parseTcpDevice(options.device);
  if (options.device && options.engine)
    throw new UsageError('--engine is for the virtual modem; a real device has its own TLS stack');
  const cases = options.cases === undefined ? undefined : checkCases(options.cases, options.full === true);
  let shard: Shard | undefined;
  try {
    shard = options.shard ? parseShard(options.shard) : undefined;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const config: RunConfig = {
    ...(options.device ? { device: options.device } : {}),
    driver: options.driver,
    ...(owned ? { owned } : {}),
    personality: options.personality,
    ...(options.engine ? { engine: options.engine } : {}),
    outDir,
    lab: {
      dialHost: options.dialHost,
      listenHost: options.listenHost,
      ...(options.dialName ? { dialName: options.dialName } : {}),
    },
    ...(shard ? { shard } : {}),
    ...(settleMs > 0 ? { settleMs } : {}),
    ...(options.full ? { full: true } : {}),
    ...(cases ? { cases } : {}),
    ...(options.publicProbe ? { publicProbe: true } : {}),
    ...(attempts !== undefined ? { attempts } : {}),
    ...(baud !== undefined ? { baud } : {}),
    ...(options.fromScratch ? { fromScratch: true } : {}),
  };
  return { outDir, config, resumed: false };
}

/** The ownership flags as one value, checked for the driver they apply to; undefined when none is given. */
function ownershipFromOptions(options: RunOptions): DeviceOwnership | undefined {
  // A flag for a resource this family does not have is a mistake, never silently dropped.
  const keys = familyNamed(options.driver).driver.ownershipKeys;
  const given = {
    filePrefix: options.filePrefix,
    sslContext: options.sslContext,
    mqttClient: options.mqttClient,
    secTags: options.secTags,
  };
  const foreign = foreignOwnershipKeys(given as DeviceOwnership, keys);
  if (foreign.length > 0) {
    throw new UsageError(
      `${foreign.map((k) => OWNERSHIP_FLAGS[k]).join(', ')} ${foreign.length > 1 ? 'are' : 'is'} not for --driver ${options.driver}; it takes ${keys.map((k) => OWNERSHIP_FLAGS[k]).join(', ')}`,
    );
  }
  const secTags = options.secTags === undefined ? undefined : parseSecTags(options.secTags);
  if (secTags === null) throw new UsageError('--sec-tags expects <first>+<count>, e.g. 1414679552+16');
  const whole = (flag: string, v: string | number | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new UsageError(`${flag} expects a whole number`);
    return n;
  };
  const sslContext = whole('--ssl-context', options.sslContext);
  const mqttClient = whole('--mqtt-client', options.mqttClient);
  const owned: DeviceOwnership = {
    ...(options.filePrefix !== undefined ? { filePrefix: options.filePrefix } : {}),
    ...(sslContext !== undefined ? { sslContext } : {}),
    ...(mqttClient !== undefined ? { mqttClient } : {}),
    ...(secTags ? { secTags } : {}),
  };
  if (Object.keys(owned).length === 0) return undefined;
  const problems = ownershipProblems(owned, familyNamed(options.driver).driver.indexRanges);
  if (problems.length > 0) throw new UsageError(`device ownership: ${problems.join('; ')}`);
  return owned;
}

function beginSession(outDir: string, config: RunConfig): RunManifest {
  const now = new Date().toISOString();
  const { outDir: _where, progress: _p, ...settings } = config;
  return updateRunManifest(outDir, (current) => ({
    ...current,
    schema: 1,
    status: 'running',
    startedAt: current.startedAt ?? now,
    endedAt: null,
    harness: harnessIdentity(PROJECT_ROOT),
    lab: config.lab,
    broker: { kind: 'aedes over node:tls', listenHost: config.lab.listenHost, node: process.version },
    settings: current.settings ?? settings,
    sessions: [...(current.sessions ?? []), { startedAt: now, endedAt: null, pid: process.pid }],
  }));
}

function endSession(outDir: string, records: readonly CaseRecord[], executed: number): RunManifest {
  const now = new Date().toISOString();
  return updateRunManifest(outDir, (current) => {
    // Complete means every planned case stands: none blocked, inconclusive or recorded on a broken device.
    const done = new Set(records.filter(isSettled).map((r) => r.case));
    const complete = (current.plannedCases ?? []).every((id) => done.has(id)) && records.length > 0;
    const sessions = [...(current.sessions ?? [])];
    const last = sessions.pop();
    if (last) sessions.push({ ...last, endedAt: now, executed });
    return { ...current, status: complete ? 'complete' : 'incomplete', endedAt: now, sessions };
  });
}

/** The summary's line on hostname cases a lab without a DNS name could not run, when there are any. */
function withoutName(records: readonly CaseRecord[]): string[] {
  const skipped = records.filter((r) => r.outcome === 'skipped' && r.reason === NO_DIAL_NAME).length;
  if (skipped === 0) return [];
  return [
    `${skipped} hostname case(s) skipped: the device has no DNS name for the lab; give one with --dial-name NAME (three or more labels that the device resolves to the broker)`,
  ];
}

/** Records in the order the run planned them, so a resumed run reads like an uninterrupted one. */
function inPlanOrder(records: readonly CaseRecord[], planned: readonly string[] = []): CaseRecord[] {
  const position = new Map(planned.map((id, i) => [id, i]));
  const rank = (r: CaseRecord) => position.get(r.case) ?? planned.length;
  return latestPerCase(records)
    .map((r, i) => ({ r, i }))
    .sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i)
    .map(({ r }) => r);
}

/**
 * Runs the conformance suite through vitest, then builds every report (JUnit and Allure included)
 * from results.jsonl alone: whatever the suite managed to record is reported. Exit code 0 when the
 * report was written, 1 when the quality gate (`--fail-on`) failed, 2 for a usage error.
 */
export async function runCommand(options: RunOptions): Promise<number> {
  const say = options.json ? jsonProgress() : null;
  const fail = (message: string, code: number) => {
    if (say) say({ event: 'error', message });
    else console.error(`trustlab: ${message}`);
    return code;
  };
  let plan: ReturnType<typeof planRun>;
  let reporting: ReportingPlan;
  try {
    plan = planRun(options);
    reporting = planReporting(options, plan.config.device ? 'stored' : 'none');
  } catch (error) {
    if (error instanceof UsageError || error instanceof ReportingFlagError || error instanceof PreflightError)
      return fail(error.message, 2);
    throw error;
  }
  const { outDir, resumed } = plan;
  const created = !existsSync(outDir);
  try {
    checkOutDir(outDir);
  } catch (error) {
    return fail((error as Error).message, 2);
  }
  let release: () => void;
  try {
    release = acquireRunLock(outDir);
  } catch (error) {
    return fail((error as Error).message, 2);
  }
  // One run per device, host-wide (a lab run hands its own lock down through the token).
  let releaseDevice = () => {};
  if (plan.config.device) {
    try {
      const token = process.env[LOCK_TOKEN_VARIABLE];
      const what = `trustlab run --out ${outDir}`;
      releaseDevice = acquireDeviceLock(plan.config.device, { what, ...(token ? { token } : {}) }).release;
    } catch (error) {
      release();
      return fail((error as Error).message, 2);
    }
    // Reached only once the device is ours: a probe must never disturb another run's modem.
    try {
      await checkDevice(plan.config.device);
    } catch (error) {
      releaseDevice();
      release();
      // A folder this invocation made holds nothing but its lock: nothing is left "running".
      if (created) rmSync(outDir, { recursive: true, force: true });
      return fail((error as Error).message, 2);
    }
  }
  try {
    // A kill can leave a torn line: the file is made valid JSON Lines again (the original kept) first.
    const repaired = repairResults(join(outDir, RESULTS_FILE));
    if (repaired.copy) {
      const note = `results.jsonl: removed torn line(s) ${repaired.removedLines.join(', ') || '(unterminated last line)'}; original kept as ${repaired.copy}`;
      if (say) say({ event: 'results-repaired', removedLines: repaired.removedLines, copy: repaired.copy });
      else console.error(`trustlab: ${note}`);
    }
    const alreadyRecorded = new Set(recordedCases(outDir).keys());
    beginSession(outDir, plan.config);
    const config: RunConfig = { ...plan.config, progress: true };
    process.env[RUN_CONFIG_VARIABLE] = JSON.stringify(config);
    const family = familyNamed(config.driver).virtual;
    const deviceLabel = config.device ?? `${family.label}:${config.personality ?? family.defaultPersonality}`;
    say?.({
      event: 'run-start',
      outDir,
      device: deviceLabel,
      resumed,
      alreadyRecorded: alreadyRecorded.size,
      ...(config.shard ? { shard: formatShard(config.shard) } : {}),
    });

    const progress = new ProgressReporter({
      outDir,
      device: deviceLabel,
      alreadyRecorded,
      emit: say ?? humanProgress(),
    });
    // Allure and JUnit are written from results.jsonl afterwards; the suite's own test results
    // are the harness's consistency checks, kept to tell a harness fault from a device finding.
    const checks = new HarnessCheckReporter();
    const reporters: (Reporter | string | [string, Record<string, unknown>])[] = [
      ...(options.json ? [] : [['default', { summary: false }] as [string, Record<string, unknown>]]),
      progress,
      checks,
    ];
    const vitest = await startVitest(
      'test',
      [],
      {
        root: PROJECT_ROOT,
        include: ['suites/**/*.suite.ts'],
        watch: false,
        run: true,
        reporters: reporters as never,
      },
      {},
      // With --json, stdout carries JSON lines only: vitest's own words go to stderr.
      options.json ? { stdout: process.stderr } : {},
    );
    await vitest?.close();
    process.exitCode = undefined; // vitest sets it for failed tests; findings do not fail the run
    writeHarnessFaults(outDir, checks.faults);

    if (!hasRecords(outDir))
      return fail(`no case was recorded; see the test output above (out: ${outDir})`, 2);
    const manifestBefore = readRunManifest(outDir);
    const records = inPlanOrder(readRecords(join(outDir, RESULTS_FILE)), manifestBefore?.plannedCases);
    const executed = records.filter((r) => !alreadyRecorded.has(r.case)).length;
    const manifest = endSession(outDir, records, executed);
    const baseline = resolveBaseline(reporting, manifest);
    const written = await writeRunReports(outDir, records, manifest, {
      allure: options.allureReport !== false,
      profile: reporting.profile,
      baseline,
      ...(options.allureHistory ? { allureHistory: options.allureHistory } : {}),
    });
    const gate = evaluateGate(records, {
      failOn: reporting.failOn,
      profile: reporting.profile,
      baseline: baseline?.set ?? null,
    });
    if (written.allureError && !say) console.error(`trustlab: ${written.allureError}`);
    const { report: reportPath, evidence, allureReport } = written;
    if (say) {
      const count = (o: string) => records.filter((r) => r.outcome === o).length;
      say({
        event: 'run-end',
        outDir,
        status: manifest.status,
        cases: records.length,
        accepted: count('accepted'),
        rejected: count('rejected'),
        inconclusive: count('inconclusive'),
        blocked: count('blocked'),
        report: reportPath,
        evidence,
        card:
          'pdf' in written.cardPdf
            ? { pdf: written.cardPdf.pdf }
            : { html: evidence.card, skipped: written.cardPdf.skipped },
        allureReport,
        junit: written.junit,
        gate: {
          failOn: gate.failOn,
          profile: gate.profile,
          findings: gate.findings,
          newFindings: gate.newFindings,
          known: gate.known,
          failed: gate.failed,
          baseline: baseline?.source ?? null,
        },
      });
    } else {
      const identity = manifest.identity;
      const extras = [
        ...(identity?.reliable === false
          ? [
              `identity: unreliable (model ${identity.model}, firmware ${identity.firmware}); answers: ${identity.raw ?? '—'}`,
            ]
          : []),
        ...withoutName(records),
        `evidence: ${evidence.html}`,
        'pdf' in written.cardPdf
          ? `card: ${written.cardPdf.pdf}`
          : `card: ${evidence.card} (no PDF: ${written.cardPdf.skipped})`,
        ...(allureReport ? [`allure: ${allureReport}`] : []),
        `baseline: ${baseline ? baseline.source : 'none (every finding counts as new)'}`,
        gate.line,
      ];
      if (manifest.status !== 'complete') {
        const open = records.filter((r) => !isSettled(r)).length;
        extras.push(
          `incomplete: ${open} case(s) blocked, inconclusive or recorded on a faulty device; run them again with trustlab run --resume ${outDir}`,
        );
      }
      console.log(renderSummary(records, reportPath, extras));
    }
    return gate.failed ? 1 : 0;
  } finally {
    releaseDevice();
    release();
  }
}
