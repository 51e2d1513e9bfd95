import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One lock per device, host-wide: a file named after the device's stable path, holding the owning
 * process. Two runs never share a modem (their AT commands would interleave and each would judge
 * the other's traffic). A lock whose process is gone is taken over. A lab run hands its lock to the
 * `trustlab run` it starts through TRUSTLAB_DEVICE_LOCK (the token), so the child does not refuse it.
 */
export const LOCK_TOKEN_VARIABLE = 'TRUSTLAB_DEVICE_LOCK';

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly device: string;
  readonly since: string;
  readonly what: string;
  readonly token: string;
}

export class DeviceBusyError extends Error {
  constructor(
    readonly device: string,
    readonly holder: LockHolder,
    readonly file: string,
  ) {
    super(
      `${device} is in use by process ${holder.pid} (${holder.what}, since ${holder.since}); ` +
        `wait for it or stop it (lock ${file})`,
    );
  }
}

export const lockDirectory = (env: NodeJS.ProcessEnv = process.env): string =>
  env.TRUSTLAB_LOCK_DIR ?? join(tmpdir(), 'trustlab-locks');

const BY_ID = '/dev/serial/by-id';

/**
 * The name a device is known by whatever path reached it: tcp URLs as written (lower-case host);
 * a serial path through its /dev/serial/by-id link when one points at the same tty, so
 * `/dev/ttyUSB2` and `/dev/serial/by-id/usb-Quectel…` take the same lock.
 */
export function stableDeviceKey(device: string, byIdDir = BY_ID): string {
  if (/^tcp:\/\//i.test(device)) return device.toLowerCase().replace(/\/+$/, '');
  if (device.startsWith(`${byIdDir}/`)) return device;
  let real: string;
  try {
    real = realpathSync(device);
  } catch {
    return device; // not present now: the path as given
  }
  if (existsSync(byIdDir)) {
    for (const link of readdirSync(byIdDir)) {
      try {
        if (realpathSync(join(byIdDir, link)) === real) return join(byIdDir, link);
      } catch {
        // a dangling link: not this device
      }
    }
  }
  return real;
}

const lockFileName = (key: string) => `${key.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+/, '')}.lock`;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return null; // torn by a crash mid-write, or just removed
  }
}

export interface DeviceLock {
  readonly key: string;
  readonly file: string;
  /** Hand this to a child run (LOCK_TOKEN_VARIABLE) so it may use the device under this lock. */
  readonly token: string;
  /** True when this process holds the lock on behalf of its parent (it must not release it). */
  readonly delegated: boolean;
  release(): void;
}

export interface LockOptions {
  readonly what: string;
  readonly dir?: string;
  /** A token from the parent that holds the lock (TRUSTLAB_DEVICE_LOCK). */
  readonly token?: string;
  readonly byIdDir?: string;
}

/** Takes the device's lock, or throws DeviceBusyError naming the process that holds it. */
export function acquireDeviceLock(device: string, options: LockOptions): DeviceLock {
  const key = stableDeviceKey(device, options.byIdDir);
  const dir = options.dir ?? lockDirectory();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, lockFileName(key));
  for (let attempt = 0; attempt < 3; attempt++) {
    const token = randomBytes(8).toString('hex');
    const holder: LockHolder = {
      pid: process.pid,
      host: hostname(),
      device: key,
      since: new Date().toISOString(),
      what: options.what,
      token,
    };
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, `${JSON.stringify(holder)}\n`);
      } finally {
        closeSync(fd);
      }
      return {
        key,
        file,
        token,
        delegated: false,
        release: () => {
          // Only our own lock: after a takeover the file may belong to someone else.
          if (readHolder(file)?.token === token) unlinkSync(file);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const current = readHolder(file);
    if (current && options.token && current.token === options.token && processAlive(current.pid)) {
      return { key, file, token: current.token, delegated: true, release: () => {} };
    }
    if (current && current.pid !== process.pid && processAlive(current.pid)) {
      throw new DeviceBusyError(key, current, file);
    }
    // Our own process (a second take) or another host (a shared folder, its pids are not ours): busy.
    if (current && (current.pid === process.pid || current.host !== hostname())) {
      throw new DeviceBusyError(key, current, file);
    }
    const age = Date.now() - (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if (!current && age < 5_000) {
      throw new Error(`${key}: another process is taking the lock right now (${file}); try again`);
    }
    // Stale (its process is gone) or unreadable: take it over. 'wx' on the next attempt settles a race.
    try {
      unlinkSync(file);
    } catch {
      // someone else removed it first
    }
  }
  throw new Error(`could not lock ${key} (${file})`);
}
