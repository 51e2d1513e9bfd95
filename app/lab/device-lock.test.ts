import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { acquireDeviceLock, DeviceBusyError, stableDeviceKey } from './device-lock.ts';
import { TRUSTLAB_BIN } from './device-run.ts';

const fresh = () => mkdtempSync(join(tmpdir(), 'trustlab-lock-'));

/** A pid that is certainly not running: a child that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

describe('device lock', () => {
  it('a second take of the same device is refused with the holder named, until released', () => {
    const dir = fresh();
    const first = acquireDeviceLock('tcp://127.0.0.1:4001', { what: 'first run', dir });
    let refusal: unknown;
    try {
      acquireDeviceLock('TCP://127.0.0.1:4001/', { what: 'second run', dir });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DeviceBusyError);
    expect((refusal as Error).message).toMatch(
      new RegExp(
        `^tcp://127\\.0\\.0\\.1:4001 is in use by process ${process.pid} \\(first run, since .*\\); wait for it or stop it`,
      ),
    );
    first.release();
    const again = acquireDeviceLock('tcp://127.0.0.1:4001', { what: 'second run', dir });
    expect(again.delegated).toBe(false);
    again.release();
    expect(existsSync(again.file)).toBe(false);
  });

  it('a lock left by a process that is gone is taken over', async () => {
    const dir = fresh();
    const mine = acquireDeviceLock('/dev/ttyTRUSTLAB9', { what: 'crashed run', dir });
    const holder = JSON.parse(readFileSync(mine.file, 'utf8'));
    writeFileSync(mine.file, JSON.stringify({ ...holder, pid: await deadPid() }));
    const taken = acquireDeviceLock('/dev/ttyTRUSTLAB9', { what: 'next run', dir });
    expect(JSON.parse(readFileSync(taken.file, 'utf8'))).toMatchObject({
      pid: process.pid,
      what: 'next run',
    });
    // The first holder's release must not remove the lock that now belongs to someone else.
    mine.release();
    expect(existsSync(taken.file)).toBe(true);
    taken.release();
  });

  it('a lock held on another host is never taken over (its pid means nothing here)', () => {
    const dir = fresh();
    const mine = acquireDeviceLock('tcp://127.0.0.1:4002', { what: 'x', dir });
    const holder = JSON.parse(readFileSync(mine.file, 'utf8'));
    writeFileSync(mine.file, JSON.stringify({ ...holder, pid: 999_999_999, host: `not-${hostname()}` }));
    expect(() => acquireDeviceLock('tcp://127.0.0.1:4002', { what: 'y', dir })).toThrow(
      /is in use by process 999999999/,
    );
  });

  it('the holder hands the device to its child run with the token; a wrong token is refused', () => {
    const dir = fresh();
    const lab = acquireDeviceLock('tcp://127.0.0.1:4003', { what: 'trustlab lab', dir });
    const child = acquireDeviceLock('tcp://127.0.0.1:4003', { what: 'trustlab run', dir, token: lab.token });
    expect(child.delegated).toBe(true);
    child.release(); // the child's end does not free the lab's device
    expect(existsSync(lab.file)).toBe(true);
    expect(() => acquireDeviceLock('tcp://127.0.0.1:4003', { what: 'other', dir, token: 'guess' })).toThrow(
      DeviceBusyError,
    );
    lab.release();
  });

  it('a tty and its /dev/serial/by-id link are one device', () => {
    const root = fresh();
    const byId = join(root, 'by-id');
    mkdirSync(byId);
    const tty = join(root, 'ttyUSB2');
    writeFileSync(tty, '');
    const link = join(byId, 'usb-Quectel_EC200U-if02-port0');
    symlinkSync(tty, link);
    expect(stableDeviceKey(tty, byId)).toBe(link);
    expect(stableDeviceKey(link, byId)).toBe(link);
    const dir = fresh();
    const held = acquireDeviceLock(link, { what: 'lab', dir, byIdDir: byId });
    expect(() => acquireDeviceLock(tty, { what: 'run', dir, byIdDir: byId })).toThrow(DeviceBusyError);
    held.release();
  });

  it('trustlab run refuses a device another process holds, with a clear message and exit code 2', async () => {
    const dir = fresh();
    const held = acquireDeviceLock('tcp://127.0.0.1:9', { what: 'a lab run elsewhere', dir });
    const out = join(fresh(), 'run');
    const result = await promisify(execFile)(
      process.execPath,
      [TRUSTLAB_BIN, 'run', '--device', 'tcp://127.0.0.1:9', '--out', out, '--json'],
      { env: { ...process.env, TRUSTLAB_RUN: '', TRUSTLAB_LOCK_DIR: dir }, timeout: 60_000 },
    ).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect(result.code).toBe(2);
    const event = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(event.event).toBe('error');
    expect(event.message).toMatch(
      new RegExp(`^tcp://127\\.0\\.0\\.1:9 is in use by process ${process.pid} \\(a lab run elsewhere`),
    );
    // Refused before touching anything: no run was recorded.
    expect(existsSync(join(out, 'results.jsonl'))).toBe(false);
    held.release();
  }, 60_000);
});
