import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import {
  type DeviceOwnership,
  type IndexRanges,
  ownershipProblems,
  SIX_INDEXES,
} from '../../harness/drivers/ownership.ts';
import { DEFAULT_FAMILY, FAMILY_NAMES, familyNamed } from '../../harness/families.ts';
import { parseDeviceAddress } from '../../harness/transport/address.ts';

/** Health checks a device may fail to answer without being excluded (stated per device, never assumed). */
export const HEALTH_CHECKS = ['at', 'identity', 'sim', 'registration', 'pdp', 'apn'] as const;
export type HealthCheckName = (typeof HEALTH_CHECKS)[number];

export interface PowerCycle {
  /** Shell command that power-cycles the device (USB hub port, PDU outlet, relay). */
  readonly command: string;
  /** Bound on the command itself. */
  readonly timeoutMs: number;
  /** Wait after the command before the device is spoken to again (boot, USB re-enumeration). */
  readonly settleMs: number;
}

/** One bench device as the inventory describes it. */
export interface InventoryDevice {
  readonly name: string;
  /** Where the AT port is now: a serial path or tcp://host:port. */
  readonly port: string;
  /** The stable path (/dev/serial/by-id/…): what runs open and what the device lock is keyed by. */
  readonly byId?: string;
  readonly driver: string;
  /** Model the device must report (ATI / AT+CGMM); a different answer means a wrong cable or port. */
  readonly model?: string;
  /** Firmware revision the device must report (ATI Revision, AT+QGMR or AT+CGMR). */
  readonly firmware?: string;
  /** APN of the data context (checked with AT+CGDCONT?). */
  readonly apn?: string;
  readonly powerCycle?: PowerCycle;
  readonly owned?: DeviceOwnership;
  readonly capabilities: readonly string[];
  /** Checks this device is known not to answer; recorded as "not answered (allowed)", never as passed. */
  readonly allowUnanswered: readonly HealthCheckName[];
  /** Passed to `trustlab run` for this device. */
  readonly run: DeviceRunOptions;
  /**
   * The names and IP literals the lab's network sends to its broker for this device (`trustlab
   * limbo`: a case whose peer name is not among them is skipped, saying which route is missing).
   */
  readonly routes?: { readonly names: readonly string[]; readonly addresses: readonly string[] };
}

export interface DeviceRunOptions {
  readonly dialHost?: string;
  readonly listenHost?: string;
  readonly dialName?: string;
  readonly cases?: readonly string[];
  readonly full?: boolean;
  readonly settleMs?: number;
  readonly attempts?: number;
}

export interface Inventory {
  readonly file: string;
  readonly devices: readonly InventoryDevice[];
  /** Resumes after a power cycle, per device run. */
  readonly maxResumes: number;
  /** A device run that reports nothing for this long is treated as hung. */
  readonly stallTimeoutMs: number;
  /** Bound on each health-check command. */
  readonly healthTimeoutMs: number;
}

/** The device path a run opens and a lock is keyed by: the stable by-id path when there is one. */
export const devicePath = (d: InventoryDevice): string => d.byId ?? d.port;

export class InventoryError extends Error {}

type Path = readonly (string | number)[];

/** Reads and validates an inventory; every error names the file, line and field. */
export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InventoryError(`${file}: cannot read the inventory (${(error as NodeJS.ErrnoException).code})`);
  }
  return parseInventory(text, file);
}

export function parseInventory(text: string, file: string): Inventory {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const firstError = doc.errors[0];
  if (firstError) {
    const at = lines.linePos(firstError.pos[0]);
    throw new InventoryError(`${file}:${at.line}: not valid YAML: ${firstError.message.split('\n')[0]}`);
  }
  const where = (path: Path): string => {
    // A missing field is placed at the nearest thing that is there (its device, say).
    let line = '';
    for (let n = path.length; n >= 0 && !line; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) line = `:${lines.linePos(node.range[0]).line}`;
    }
    const field = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
    return `${file}${line}: ${field || '(top level)'}`;
  };
  const fail = (path: Path, message: string): never => {
    throw new InventoryError(`${where(path)}: ${message}`);
  };
  const root = doc.toJS() as unknown;
  if (!isMap(doc.contents) || typeof root !== 'object' || root === null) {
    return fail([], 'expected a mapping with a `devices:` list');
  }
  const top = root as Record<string, unknown>;
  known(top, ['devices', 'maxResumes', 'stallTimeoutMs', 'healthTimeoutMs'], [], fail);
  if (!isSeq(doc.get('devices', true)) || !Array.isArray(top.devices) || top.devices.length === 0) {
    fail(['devices'], 'expected a non-empty list of devices');
  }
  const devices = (top.devices as unknown[]).map((d, i) => parseDevice(d, ['devices', i], fail));
  const seen = new Map<string, number>();
  devices.forEach((d, i) => {
    const before = seen.get(d.name);
    if (before !== undefined)
      fail(['devices', i, 'name'], `"${d.name}" is already devices[${before}]'s name`);
    seen.set(d.name, i);
  });
  const paths = new Map<string, number>();
  devices.forEach((d, i) => {
    const before = paths.get(devicePath(d));
    if (before !== undefined) {
      fail(['devices', i, d.byId ? 'byId' : 'port'], `${devicePath(d)} is also devices[${before}]`);
    }
    paths.set(devicePath(d), i);
  });
  return {
    file,
    devices,
    maxResumes: integer(top, 'maxResumes', [], fail, { min: 0, max: 10 }) ?? 2,
    stallTimeoutMs: integer(top, 'stallTimeoutMs', [], fail, { min: 1_000 }) ?? 15 * 60_000,
    healthTimeoutMs: integer(top, 'healthTimeoutMs', [], fail, { min: 100, max: 120_000 }) ?? 3_000,
  };
}

type Fail = (path: Path, message: string) => never;

function known(object: Record<string, unknown>, keys: readonly string[], path: Path, fail: Fail): void {
  for (const key of Object.keys(object)) {
    if (!keys.includes(key)) fail([...path, key], `unknown field (known: ${keys.join(', ')})`);
  }
}

function mapping(value: unknown, path: Path, fail: Fail): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'expected a mapping');
  return value as Record<string, unknown>;
}

function text(object: Record<string, unknown>, key: string, path: Path, fail: Fail): string | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '') fail([...path, key], 'expected a non-empty string');
  return (value as string).trim();
}

function integer(
  object: Record<string, unknown>,
  key: string,
  path: Path,
  fail: Fail,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail([...path, key], `expected a whole number from ${min} to ${max}`);
  }
  return value as number;
}

function strings(object: Record<string, unknown>, key: string, path: Path, fail: Fail): string[] {
  const value = object[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
    fail([...path, key], 'expected a list of strings');
  }
  return (value as string[]).map((v) => v.trim());
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

function parseDevice(value: unknown, path: Path, fail: Fail): InventoryDevice {
  const d = mapping(value, path, fail);
  known(
    d,
    [
      'name',
      'port',
      'byId',
      'driver',
      'model',
      'firmware',
      'apn',
      'powerCycle',
      'owned',
      'capabilities',
      'allowUnanswered',
      'run',
      'routes',
    ],
    path,
    fail,
  );
  const name = text(d, 'name', path, fail) ?? fail([...path, 'name'], 'required');
  // The name becomes a folder and a lock label.
  if (!NAME.test(name)) fail([...path, 'name'], 'letters, digits, dot, dash and underscore only');
  const port =
    text(d, 'port', path, fail) ?? fail([...path, 'port'], 'required (serial path or tcp://host:port)');
  address(port, [...path, 'port'], fail);
  const byId = text(d, 'byId', path, fail);
  if (byId !== undefined) {
    address(byId, [...path, 'byId'], fail);
    if (byId.startsWith('tcp://')) fail([...path, 'byId'], 'expected a serial path (/dev/serial/by-id/…)');
  }
  const driver = text(d, 'driver', path, fail) ?? DEFAULT_FAMILY;
  if (!FAMILY_NAMES.includes(driver)) {
    fail([...path, 'driver'], `"${driver}" is not a driver (known: ${FAMILY_NAMES.join(', ')})`);
  }
  const allow = strings(d, 'allowUnanswered', path, fail);
  for (const [i, check] of allow.entries()) {
    if (!(HEALTH_CHECKS as readonly string[]).includes(check)) {
      fail(
        [...path, 'allowUnanswered', i],
        `"${check}" is not a health check (known: ${HEALTH_CHECKS.join(', ')})`,
      );
    }
  }
  const model = text(d, 'model', path, fail);
  const firmware = text(d, 'firmware', path, fail);
  const apn = text(d, 'apn', path, fail);
  const powerCycle =
    d.powerCycle === undefined ? undefined : parsePowerCycle(d.powerCycle, [...path, 'powerCycle'], fail);
  const owned = d.owned === undefined ? undefined : parseOwnership(d.owned, driver, [...path, 'owned'], fail);
  return {
    name,
    port,
    ...(byId ? { byId } : {}),
    driver,
    ...(model ? { model } : {}),
    ...(firmware ? { firmware } : {}),
    ...(apn ? { apn } : {}),
    ...(powerCycle ? { powerCycle } : {}),
    ...(owned ? { owned } : {}),
    capabilities: strings(d, 'capabilities', path, fail),
    allowUnanswered: allow as HealthCheckName[],
    run: d.run === undefined ? {} : parseRunOptions(d.run, [...path, 'run'], fail),
    ...(d.routes === undefined ? {} : { routes: parseRoutes(d.routes, [...path, 'routes'], fail) }),
  };
}

function parseRoutes(value: unknown, path: Path, fail: Fail): NonNullable<InventoryDevice['routes']> {
  const r = mapping(value, path, fail);
  known(r, ['names', 'addresses'], path, fail);
  const addresses = strings(r, 'addresses', path, fail);
  for (const [i, a] of addresses.entries())
    if (isIP(a) === 0) fail([...path, 'addresses', i], `"${a}" is not an IP literal`);
  return { names: strings(r, 'names', path, fail), addresses };
}

function address(value: string, path: Path, fail: Fail): void {
  try {
    parseDeviceAddress(value);
  } catch (error) {
    fail(path, (error as Error).message.replace(/^--device /, ''));
  }
}

function parsePowerCycle(value: unknown, path: Path, fail: Fail): PowerCycle {
  // A bare string is the command with the default bounds.
  if (typeof value === 'string') {
    if (value.trim() === '') fail(path, 'expected a command or a mapping with `command:`');
    return { command: value.trim(), timeoutMs: 30_000, settleMs: 10_000 };
  }
  const p = mapping(value, path, fail);
  known(p, ['command', 'timeoutMs', 'settleMs'], path, fail);
  return {
    command: text(p, 'command', path, fail) ?? fail([...path, 'command'], 'required'),
    timeoutMs: integer(p, 'timeoutMs', path, fail, { min: 100, max: 600_000 }) ?? 30_000,
    settleMs: integer(p, 'settleMs', path, fail, { min: 0, max: 600_000 }) ?? 10_000,
  };
}

function parseOwnership(value: unknown, driver: string, path: Path, fail: Fail): DeviceOwnership {
  const o = mapping(value, path, fail);
  // Only the keys this family uses: another family's key here is a mistake, not something to ignore.
  const keys = familyNamed(driver).driver.ownershipKeys;
  known(o, keys, path, fail);
  const owned: { -readonly [K in keyof DeviceOwnership]: DeviceOwnership[K] } = {};
  const filePrefix = text(o, 'filePrefix', path, fail);
  if (filePrefix !== undefined) owned.filePrefix = filePrefix;
  const ranges = familyNamed(driver).driver.indexRanges ?? SIX_INDEXES;
  for (const key of ['sslContext', 'mqttClient'] as const) {
    const v = integer(o, key, path, fail, ranges[key]);
    if (v !== undefined) owned[key] = v;
  }
  if (o.secTags !== undefined) {
    const s = mapping(o.secTags, [...path, 'secTags'], fail);
    known(s, ['first', 'count'], [...path, 'secTags'], fail);
    const first =
      integer(s, 'first', [...path, 'secTags'], fail, { min: 0, max: 2_147_483_647 }) ??
      fail([...path, 'secTags', 'first'], 'required');
    const count =
      integer(s, 'count', [...path, 'secTags'], fail, { min: 1, max: 256 }) ??
      fail([...path, 'secTags', 'count'], 'required');
    owned.secTags = { first, count };
  }
  return checkedOwnership(owned, familyNamed(driver).driver.indexRanges, path, fail);
}

/** The same rules `trustlab run` applies to its ownership flags, so a lab file never passes what a run refuses. */
function checkedOwnership(
  owned: DeviceOwnership,
  ranges: IndexRanges | undefined,
  path: Path,
  fail: Fail,
): DeviceOwnership {
  const problem = ownershipProblems(owned, ranges)[0];
  if (problem) fail(path, problem);
  return owned;
}

function parseRunOptions(value: unknown, path: Path, fail: Fail): DeviceRunOptions {
  const r = mapping(value, path, fail);
  known(r, ['dialHost', 'listenHost', 'dialName', 'cases', 'full', 'settleMs', 'attempts'], path, fail);
  if (r.full !== undefined && typeof r.full !== 'boolean') fail([...path, 'full'], 'expected true or false');
  const dialHost = text(r, 'dialHost', path, fail);
  const listenHost = text(r, 'listenHost', path, fail);
  const dialName = text(r, 'dialName', path, fail);
  const cases = strings(r, 'cases', path, fail);
  const settleMs = integer(r, 'settleMs', path, fail, { min: 0, max: 60_000 });
  const attempts = integer(r, 'attempts', path, fail, { min: 1, max: 10 });
  return {
    ...(dialHost ? { dialHost } : {}),
    ...(listenHost ? { listenHost } : {}),
    ...(dialName ? { dialName } : {}),
    ...(cases.length > 0 ? { cases } : {}),
    ...(r.full === true ? { full: true } : {}),
    ...(settleMs !== undefined ? { settleMs } : {}),
    ...(attempts !== undefined ? { attempts } : {}),
  };
}
