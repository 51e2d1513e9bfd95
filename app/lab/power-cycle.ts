import { spawn } from 'node:child_process';
import type { PowerCycle } from './inventory.ts';

export interface PowerCycleResult {
  readonly command: string;
  readonly ok: boolean;
  /** Exit code, or null when it was killed. */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** The command's last output (stdout and stderr), for the record. */
  readonly output: string;
  readonly durationMs: number;
  readonly at: string;
}

const KEEP_OUTPUT = 2_000;

/**
 * Runs the inventory's power-cycle command through the shell, bounded: past the timeout its whole
 * process group is killed (a hub tool that hangs must not hang the lab). The device name and path
 * are in its environment (TRUSTLAB_DEVICE_NAME, TRUSTLAB_DEVICE_PATH) for scripts shared by benches.
 */
export function runPowerCycle(
  cycle: PowerCycle,
  device: { name: string; path: string },
): Promise<PowerCycleResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cycle.command, {
      shell: true,
      detached: true, // its own process group, so the timeout reaches what the shell started
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TRUSTLAB_DEVICE_NAME: device.name, TRUSTLAB_DEVICE_PATH: device.path },
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-KEEP_OUTPUT);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, cycle.timeoutMs);
    const done = (exitCode: number | null, error?: Error) => {
      clearTimeout(timer);
      resolve({
        command: cycle.command,
        ok: !timedOut && exitCode === 0,
        exitCode,
        timedOut,
        output: error ? `${output}${error.message}` : output.trim(),
        durationMs: Date.now() - started,
        at: new Date(started).toISOString(),
      });
    };
    child.once('error', (error) => done(null, error));
    child.once('close', (code) => done(code));
  });
}
