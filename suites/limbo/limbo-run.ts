import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabNetwork } from '../../contracts/case.ts';
import type { DeviceOwnership } from '../../harness/drivers/ownership.ts';
import {
  type DeviceRequest,
  type DriverFamily,
  type OpenDevice,
  openDevice,
} from '../../harness/runner/device.ts';
import type { PersonalityName } from '../../harness/virtual-modem/personality.ts';
import type { TlsEngineId } from '../../harness/virtual-modem/tls/engine.ts';
import { renderAnomaliesHtml, renderAnomaliesMarkdown } from '../../reports/limbo/anomalies.ts';
import {
  LIMBO_RESULTS_FILE,
  LIMBO_VERDICT,
  toLimboResult,
  writeLimboResult,
} from '../../reports/limbo/limbo-results.ts';
import type { CaseRecord } from '../../reports/record.ts';
import { latestPerCase, RESULTS_FILE, readRecords } from '../../reports/results-log.ts';
import { recordedCases } from '../../reports/resume.ts';
import { type Shard, selectShard } from '../../reports/shard.ts';
import { executeLimboCase, recordLimboNotRun } from './limbo-case.ts';
import { type LimboRoutes, planLimboCase, ROUTE_EVERYTHING } from './limbo-plan.ts';
import { type LimboTestcase, loadLimboSuite, PINNED_LIMBO, PINNED_REVISION } from './limbo-suite.ts';

/** What a `trustlab limbo` run is pointed at; kept in the run folder so `--resume` runs the same. */
export interface LimboRunSettings {
  readonly driver: DriverFamily;
  readonly device?: string;
  /** Virtual modem only: the TLS stack its handshakes run on (default: the family's personality's). */
  readonly engine?: TlsEngineId;
  readonly personality?: PersonalityName;
  readonly lab: LabNetwork;
  readonly limboFile: string;
  /** SHA-256 of the suite file: a resumed run refuses a suite that changed underneath it. */
  readonly limboSha256: string;
  readonly cases?: readonly string[];
  readonly shard?: Shard;
  /** Real devices: the names and addresses the lab routes to its broker (`--routes`). */
  readonly routes?: { readonly names: readonly string[]; readonly addresses: readonly string[] };
  readonly attempts?: number;
  readonly baud?: number;
  readonly owned?: DeviceOwnership;
}

export const LIMBO_RUN_FILE = 'limbo-run.json';
export const ANOMALIES_MD = 'limbo-anomalies.md';
export const ANOMALIES_HTML = 'limbo-anomalies.html';

export const sha256File = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

export function readLimboRunSettings(outDir: string): LimboRunSettings | null {
  const file = join(outDir, LIMBO_RUN_FILE);
  if (!existsSync(file)) return null;
  const value = JSON.parse(readFileSync(file, 'utf8')) as { settings?: LimboRunSettings };
  if (!value.settings?.limboFile) throw new Error(`${file}: not a limbo run file (no settings.limboFile)`);
  return value.settings;
}

/** The cases `--cases` names (exact ids, or globs with `*`); a pattern that names nothing is an error. */
export function selectLimboCases(cases: readonly LimboTestcase[], patterns: readonly string[] | undefined) {
  if (!patterns || patterns.length === 0) return [...cases];
  const glob = (p: string) =>
    new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
  const matches = (id: string, p: string) => (p.includes('*') ? glob(p).test(id) : id === p);
  for (const p of patterns)
    if (!cases.some((c) => matches(c.id, p)))
      throw new Error(`--cases: "${p}" names no case of the limbo suite`);
  return cases.filter((c) => patterns.some((p) => matches(c.id, p)));
}

function routesOf(settings: LimboRunSettings): LimboRoutes {
  if (!settings.device) return ROUTE_EVERYTHING;
  const r = settings.routes ?? { names: [], addresses: [] };
  return { names: new Set(r.names.map((n) => n.toLowerCase())), addresses: new Set(r.addresses) };
}

/**
 * The virtual modem's carrier network for these cases: every peer name and IP literal goes to the
 * lab's loopback listener (the TLS client still dials, sends and checks the name it was given).
 */
function virtualNetworkFor(cases: readonly LimboTestcase[], lab: LabNetwork) {
  const hosts: Record<string, string> = { localhost: '127.0.0.1' };
  const addresses: Record<string, string> = {};
  for (const c of cases) {
    const name = c.expected_peer_name;
    if (name?.kind === 'DNS') hosts[name.value.toLowerCase()] = lab.listenHost;
    if (name?.kind === 'IP') addresses[name.value] = lab.listenHost;
  }
  return { hosts, addresses };
}

function deviceRequest(
  settings: LimboRunSettings,
  cases: readonly LimboTestcase[],
  outDir: string,
): DeviceRequest {
  const common = {
    driver: settings.driver,
    ...(settings.owned ? { owned: settings.owned } : {}),
    ...(settings.baud ? { baud: settings.baud } : {}),
  };
  if (settings.device) return { ...common, device: settings.device, runDir: outDir };
  return {
    ...common,
    ...(settings.personality ? { personality: settings.personality } : {}),
    network: virtualNetworkFor(cases, settings.lab),
    ...(settings.engine ? { virtualModem: { engine: settings.engine } } : {}),
  };
}

export type LimboProgress = (line: {
  readonly index: number;
  readonly total: number;
  readonly record: CaseRecord;
  readonly replayed: boolean;
}) => void;

export interface LimboRunResult {
  readonly records: readonly CaseRecord[];
  readonly engine: string;
  readonly files: {
    readonly results: string;
    readonly limbo: string;
    readonly markdown: string;
    readonly html: string;
  };
  readonly restoreFailures: readonly string[];
}

/** The engine a run's handshakes ran on, from its records (the virtual modem says which answered). */
function engineOf(records: readonly CaseRecord[], settings: LimboRunSettings): string {
  if (settings.device) return "the device's own TLS stack";
  const seen = [...new Set(records.flatMap((r) => (r.virtualTls ? [r.virtualTls.engine] : [])))];
  return seen.length > 0 ? seen.join(', ') : (settings.engine ?? 'auto');
}

/** Writes limbo-results.json and the anomalies pages from results.jsonl alone (what a crash left is reported). */
export function writeLimboReports(
  outDir: string,
  settings: LimboRunSettings,
  harness: string,
  deviceLabel: string,
) {
  const file = join(outDir, RESULTS_FILE);
  const records = existsSync(file) ? latestPerCase(readRecords(file)) : [];
  const engine = engineOf(records, settings);
  const files = {
    results: file,
    limbo: join(outDir, LIMBO_RESULTS_FILE),
    markdown: join(outDir, ANOMALIES_MD),
    html: join(outDir, ANOMALIES_HTML),
  };
  writeLimboResult(files.limbo, toLimboResult(records, `trustlab/${harness} ${deviceLabel} (${engine})`));
  const facts = {
    device: deviceLabel,
    engine,
    suite: settings.limboFile === PINNED_LIMBO ? 'pinned copy' : settings.limboFile,
    revision:
      settings.limboFile === PINNED_LIMBO ? PINNED_REVISION : `sha256 ${settings.limboSha256.slice(0, 12)}`,
    harness,
  };
  writeFileSync(files.markdown, renderAnomaliesMarkdown(records, facts));
  writeFileSync(files.html, renderAnomaliesHtml(records, facts));
  return { records, engine, files };
}

/**
 * Runs the suite's cases on one device, one after the other, each recorded (flushed) as it ends;
 * recorded cases of an earlier session are kept, not run again. A device found unhealthy blocks the
 * rest. The device is restored at the end whatever happened.
 */
export async function runLimbo(
  settings: LimboRunSettings,
  outDir: string,
  harness: string,
  progress: LimboProgress = () => {},
): Promise<LimboRunResult> {
  const suite = loadLimboSuite(settings.limboFile);
  const selected = selectShard(
    selectLimboCases(suite.testcases, settings.cases),
    (c) => c.id,
    settings.shard,
  );
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, LIMBO_RUN_FILE), `${JSON.stringify({ schema: 1, settings }, null, 2)}\n`);
  const recorded = recordedCases(outDir);
  const routes = routesOf(settings);
  const engine = settings.engine ?? (settings.device ? 'device' : 'auto');
  const device: OpenDevice = await openDevice(deviceRequest(settings, selected, outDir));
  let restoreFailures: string[] = [];
  try {
    let broken: string | null = null;
    for (const [i, c] of selected.entries()) {
      const prior = recorded.get(c.id);
      let record: CaseRecord;
      if (prior) record = prior;
      else if (broken) record = recordLimboNotRun(device, c, outDir, settings.lab, engine, 'blocked', broken);
      else {
        const planned = planLimboCase(c, routes);
        record =
          'skip' in planned
            ? recordLimboNotRun(device, c, outDir, settings.lab, engine, 'skipped', planned.skip)
            : await executeLimboCase(
                device,
                c,
                planned.plan,
                outDir,
                settings.lab,
                engine,
                settings.attempts,
              );
        if (!record.device.healthy) broken = `device unhealthy after ${c.id}: ${record.device.error}`;
      }
      progress({ index: i + 1, total: selected.length, record, replayed: prior !== undefined });
    }
  } finally {
    restoreFailures = await device.restore();
    await device.close();
  }
  const written = writeLimboReports(outDir, settings, harness, device.label);
  return { ...written, restoreFailures };
}

/** The verdict of a limbo record ('conformant', 'lenient', …). */
export const limboVerdictOf = (r: CaseRecord) => r.verdicts[LIMBO_VERDICT] ?? 'none';
