import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_FAMILY, FAMILY_NAMES } from '../../harness/families.ts';
import { PERSONALITIES } from '../../harness/virtual-modem/personality.ts';
import { TLS_ENGINE_IDS, type TlsEngineId } from '../../harness/virtual-modem/tls/engine.ts';
import { harnessIdentity } from '../../reports/harness-identity.ts';
import { acquireRunLock } from '../../reports/resume.ts';
import { parseShard } from '../../reports/shard.ts';
import { exportCatalogue } from '../../suites/limbo/limbo-export.ts';
import {
  type LimboRunSettings,
  limboVerdictOf,
  readLimboRunSettings,
  runLimbo,
  sha256File,
} from '../../suites/limbo/limbo-run.ts';
import { LimboFileError, loadLimboSuite, PINNED_LIMBO } from '../../suites/limbo/limbo-suite.ts';
import { acquireDeviceLock, LOCK_TOKEN_VARIABLE } from '../lab/device-lock.ts';
import { devicePath, loadInventory } from '../lab/inventory.ts';
import { checkDevice, checkOutDir, parseTcpDevice } from './preflight.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface LimboOptions {
  readonly device?: string;
  readonly driver: LimboRunSettings['driver'];
  readonly personality?: LimboRunSettings['personality'];
  readonly engine?: TlsEngineId;
  readonly out?: string;
  readonly limbo?: string;
  readonly cases?: string;
  readonly resume?: string;
  readonly shard?: string;
  readonly routes?: string;
  readonly attempts?: string;
  readonly baud?: string;
  readonly dialHost: string;
  readonly listenHost: string;
  /** A bench inventory and the device in it: port, driver, owned resources, routes and lab hosts from there. */
  readonly inventory?: string;
  readonly deviceName?: string;
}

/** What an inventory entry adds to a run beyond the command line's own options. */
interface FromInventory {
  readonly options: LimboOptions;
  readonly routes?: LimboRunSettings['routes'];
  readonly owned?: LimboRunSettings['owned'];
}

class UsageError extends Error {}

/** `--routes FILE` (YAML or JSON): `names:` and `addresses:` the lab's network sends to its broker. */
export function readRoutes(file: string): NonNullable<LimboRunSettings['routes']> {
  let value: unknown;
  try {
    value = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--routes ${file}: ${(error as Error).message}`);
  }
  const v = (value ?? {}) as { names?: unknown; addresses?: unknown };
  const list = (field: 'names' | 'addresses') => {
    const got = v[field] ?? [];
    if (!Array.isArray(got) || got.some((x) => typeof x !== 'string'))
      throw new UsageError(`--routes ${file}: "${field}" must be a list of strings`);
    return got as string[];
  };
  const addresses = list('addresses');
  const notIp = addresses.find((a) => isIP(a) === 0);
  if (notIp) throw new UsageError(`--routes ${file}: address "${notIp}" is not an IP literal`);
  return { names: list('names'), addresses };
}

/** The device an inventory names: its port, driver, lab hosts, owned resources and routes. */
function fromInventory(options: LimboOptions): FromInventory {
  if (!options.inventory) {
    if (options.deviceName) throw new UsageError('--device-name needs --inventory');
    return { options };
  }
  if (!options.deviceName) throw new UsageError('--inventory needs --device-name <name of the device in it>');
  if (options.device || options.routes)
    throw new UsageError('--inventory gives the device and its routes; leave out --device and --routes');
  const inventory = loadInventory(options.inventory);
  const d = inventory.devices.find((x) => x.name === options.deviceName);
  if (!d)
    throw new UsageError(
      `--device-name ${options.deviceName}: not in ${options.inventory} (it has ${inventory.devices.map((x) => x.name).join(', ')})`,
    );
  return {
    options: {
      ...options,
      device: devicePath(d),
      driver: d.driver,
      ...(d.run.dialHost ? { dialHost: d.run.dialHost } : {}),
      ...(d.run.listenHost ? { listenHost: d.run.listenHost } : {}),
    },
    // No routes declared: every case is skipped with the route it lacks, never dialled blind.
    routes: d.routes ?? { names: [], addresses: [] },
    ...(d.owned ? { owned: d.owned } : {}),
  };
}

function settingsFrom(given: LimboOptions): { settings: LimboRunSettings; outDir: string } {
  const { options, routes, owned } = fromInventory(given);
  if (options.resume) {
    const outDir = resolve(options.resume);
    const recorded = readLimboRunSettings(outDir);
    if (!recorded) throw new UsageError(`--resume ${options.resume}: no limbo-run.json there`);
    if (!existsSync(recorded.limboFile) || sha256File(recorded.limboFile) !== recorded.limboSha256)
      throw new UsageError(
        `--resume ${options.resume}: the suite ${recorded.limboFile} is gone or changed since the run began; start a new run`,
      );
    return { settings: { ...recorded, ...(options.device ? { device: options.device } : {}) }, outDir };
  }
  const whole = (flag: string, text: string | undefined, min: number, max: number) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`${flag} expects a whole number from ${min} to ${max}`);
    return n;
  };
  if (options.device?.startsWith('tcp://')) parseTcpDevice(options.device);
  if (options.device && (options.engine || options.personality))
    throw new UsageError(
      '--engine and --personality are for the virtual modem; a real device has its own TLS stack',
    );
  if (!options.device && options.routes)
    throw new UsageError(
      '--routes is for a real device; the virtual modem routes every name and address to the lab',
    );
  const limboFile = resolve(options.limbo ?? PINNED_LIMBO);
  loadLimboSuite(limboFile); // a malformed suite is an error before any device is touched
  const attempts = whole('--attempts', options.attempts, 1, 10);
  const baud = whole('--baud', options.baud, 300, 4_000_000);
  const cases = options.cases
    ?.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const settings: LimboRunSettings = {
    driver: options.driver,
    ...(options.device ? { device: options.device } : {}),
    ...(options.engine ? { engine: options.engine } : {}),
    ...(options.personality ? { personality: options.personality } : {}),
    lab: { dialHost: options.dialHost, listenHost: options.listenHost },
    limboFile,
    limboSha256: sha256File(limboFile),
    ...(cases && cases.length > 0 ? { cases } : {}),
    ...(options.shard ? { shard: parseShard(options.shard) } : {}),
    ...(options.routes ? { routes: readRoutes(options.routes) } : {}),
    ...(routes ? { routes } : {}),
    ...(owned ? { owned } : {}),
    ...(attempts !== undefined ? { attempts } : {}),
    ...(baud !== undefined ? { baud } : {}),
  };
  const outDir = resolve(
    options.out ??
      join(PROJECT_ROOT, 'reports', 'out', `limbo-${new Date().toISOString().replace(/[:.]/g, '-')}`),
  );
  if (existsSync(join(outDir, 'results.jsonl')))
    throw new UsageError(
      `${outDir} already holds a run; complete it with --resume ${outDir}, or choose another --out`,
    );
  return { settings, outDir };
}

/** `trustlab limbo`: x509-limbo's SERVER cases on a device, over the wire. Exit 0 report written, 1 restore failed, 2 usage. */
export async function limboCommand(options: LimboOptions): Promise<number> {
  let planned: ReturnType<typeof settingsFrom>;
  try {
    planned = settingsFrom(options);
    checkOutDir(planned.outDir);
  } catch (error) {
    console.error(`trustlab limbo: ${(error as Error).message}`);
    return 2;
  }
  const { settings, outDir } = planned;
  const identity = harnessIdentity(PROJECT_ROOT);
  const harness = `${identity.version}@${identity.commit?.slice(0, 12) ?? 'unknown'}${identity.dirty ? '+dirty' : ''}`;
  let release: () => void;
  let releaseDevice = () => {};
  try {
    release = acquireRunLock(outDir);
    if (settings.device) {
      const token = process.env[LOCK_TOKEN_VARIABLE];
      releaseDevice = acquireDeviceLock(settings.device, {
        what: `trustlab limbo --out ${outDir}`,
        ...(token ? { token } : {}),
      }).release;
      await checkDevice(settings.device);
    }
  } catch (error) {
    releaseDevice();
    console.error(`trustlab limbo: ${(error as Error).message}`);
    return 2;
  }
  const started = Date.now();
  try {
    const result = await runLimbo(settings, outDir, harness, ({ index, total, record, replayed }) => {
      const verdict = limboVerdictOf(record);
      console.log(
        `[${index}/${total}] ${record.case}: ${verdict}${replayed ? ' (recorded earlier)' : ''} — ${record.outcome}: ${record.reason}`,
      );
    });
    const count = (v: string) => result.records.filter((r) => limboVerdictOf(r) === v).length;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `limbo: ${result.records.length} cases in ${seconds} s on ${result.engine}: ${count('conformant')} conformant, ${count('lenient')} lenient, ${count('strict')} strict, ${count('not-applicable')} skipped, ${count('inconclusive')} inconclusive, ${count('blocked')} blocked`,
    );
    console.log(`results: ${result.files.limbo} (limbo format), ${result.files.results}`);
    console.log(`anomalies: ${result.files.html}`);
    for (const f of result.restoreFailures) console.error(`trustlab limbo: not restored: ${f}`);
    return result.restoreFailures.length > 0 ? 1 : 0;
  } catch (error) {
    const known = error instanceof LimboFileError || /^--cases/.test((error as Error).message);
    console.error(
      `trustlab limbo: ${(error as Error).message}${known ? '' : `; what was recorded is in ${outDir}`}`,
    );
    return 2;
  } finally {
    releaseDevice();
    release();
  }
}

/** `trustlab limbo export`: the catalogue as limbo testcases. */
export async function limboExportCommand(options: { readonly out: string }): Promise<number> {
  const exported = await exportCatalogue();
  writeFileSync(options.out, `${JSON.stringify(exported.suite, null, 2)}\n`);
  console.log(
    `exported ${exported.suite.testcases.length} limbo testcases from ${exported.origin.size === 0 ? 0 : new Set(exported.origin.values()).size} TrustLab cases to ${options.out} (valid against x509-limbo's schema)`,
  );
  for (const l of exported.left) console.log(`  not exported: ${l.case} (${l.why})`);
  return 0;
}

export function registerLimboCommand(program: Command): void {
  const limbo = program
    .command('limbo')
    .description(
      "run x509-limbo's SERVER cases on a device over the wire (the virtual modem when --device is absent)",
    )
    .option('--device <address>', 'serial path or tcp://host:port (ser2net) of a real modem')
    .addOption(
      new Option('--driver <family>', 'AT dialect of the device')
        .choices(FAMILY_NAMES)
        .default(DEFAULT_FAMILY),
    )
    .addOption(
      new Option('--personality <name>', 'virtual modem: trust personality').choices(
        Object.keys(PERSONALITIES),
      ),
    )
    .addOption(
      new Option('--engine <engine>', 'virtual modem: the TLS stack its handshakes run on').choices([
        ...TLS_ENGINE_IDS,
      ]),
    )
    .option('--limbo <file>', 'a limbo.json to run instead of the pinned copy (checked against its schema)')
    .option('--cases <list>', 'only these cases: comma-separated ids or globs (webpki::san::*)')
    .option('--out <dir>', 'output folder (default reports/out/limbo-<time>)')
    .option('--resume <dir>', 'complete an interrupted limbo run with its recorded settings')
    .option('--shard <i/n>', 'run only slice i of n of the cases (stable)')
    .option(
      '--routes <file>',
      'real device: YAML/JSON with the names: and addresses: the lab routes to its broker',
    )
    .option('--inventory <file>', 'a bench inventory: the device named by --device-name, with its routes:')
    .option('--device-name <name>', 'with --inventory: which device of it')
    .option('--attempts <n>', 'tries for a case that fails before TLS (default 3)')
    .option('--baud <rate>', "the AT line's speed (default 115200)")
    .option('--dial-host <host>', 'host the device dials for the lab (recorded)', '127.0.0.1')
    .option('--listen-host <host>', 'address the broker listens on', '127.0.0.1')
    // Options after `export` are its own (`limbo export --out FILE`), not the run's.
    .enablePositionalOptions()
    .action(async (options: LimboOptions) => {
      process.exitCode = await limboCommand(options);
    });
  limbo
    .command('export')
    .description("TrustLab's catalogue as x509-limbo testcases (ids trustlab::…, peer keys included)")
    .option('--out <file>', 'where to write the limbo.json', 'trustlab-limbo.json')
    .action(async (options: { out: string }) => {
      process.exitCode = await limboExportCommand(options);
    });
}
