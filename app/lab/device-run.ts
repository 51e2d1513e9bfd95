import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type DeviceOwnership, ownershipArguments } from '../../harness/drivers/ownership.ts';
import { LOCK_TOKEN_VARIABLE } from './device-lock.ts';
import type { DeviceRunOptions } from './inventory.ts';

export const TRUSTLAB_BIN = fileURLToPath(new URL('../../bin/trustlab.js', import.meta.url));

export interface ChildRunRequest {
  readonly devicePath: string;
  readonly driver: string;
  /** Device resources from the inventory; a resumed run keeps those recorded in its run.json. */
  readonly owned?: DeviceOwnership;
  readonly runDir: string;
  readonly resume: boolean;
  readonly run: DeviceRunOptions;
  readonly allureReport: boolean;
  /** The profile the child's Allure and JUnit results judge by (default rfc5280). */
  readonly profile?: string;
  /** The lab's lock token, so the child may use the device the lab holds. */
  readonly lockToken: string;
  /** Kill the run when it reports nothing for this long. */
  readonly stallTimeoutMs: number;
  /** The child's stderr (vitest's words, errors) is appended here. */
  readonly logFile: string;
  readonly onEvent: (event: Record<string, unknown>) => void;
  readonly env?: NodeJS.ProcessEnv;
  readonly bin?: string;
}

export interface ChildRunResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Killed by the lab because it reported nothing within the stall timeout. */
  readonly stalled: boolean;
  /** The child's own `error` event, when it gave one (usage, lock, nothing recorded). */
  readonly error: string | null;
  readonly durationMs: number;
}

/** `trustlab run` arguments for one device: a fresh run, or `--resume` of its folder. */
export function runArguments(
  r: Pick<
    ChildRunRequest,
    'devicePath' | 'driver' | 'owned' | 'runDir' | 'resume' | 'run' | 'allureReport' | 'profile'
  >,
): string[] {
  const common = [
    '--device',
    r.devicePath,
    '--json',
    ...(r.allureReport ? [] : ['--no-allure-report']),
    ...(r.profile ? ['--profile', r.profile] : []),
  ];
  if (r.resume) return ['run', '--resume', r.runDir, ...common];
  const o = r.run;
  return [
    'run',
    '--out',
    r.runDir,
    '--driver',
    r.driver,
    ...ownershipArguments(r.owned),
    ...common,
    ...(o.dialHost ? ['--dial-host', o.dialHost] : []),
    ...(o.listenHost ? ['--listen-host', o.listenHost] : []),
    ...(o.dialName ? ['--dial-name', o.dialName] : []),
    ...(o.cases ? ['--cases', o.cases.join(',')] : []),
    ...(o.full ? ['--full'] : []),
    ...(o.settleMs !== undefined ? ['--settle', String(o.settleMs)] : []),
    ...(o.attempts !== undefined ? ['--attempts', String(o.attempts)] : []),
  ];
}

/**
 * One `trustlab run` for one device in a child process of its own (its own process group): a hung
 * modem, a crash or a runaway TLS engine stays there. Its JSON lines are passed on as they come;
 * a child silent for the stall timeout is killed, group and all (SIGTERM, then SIGKILL).
 */
export function runDeviceChild(request: ChildRunRequest): {
  done: Promise<ChildRunResult>;
  interrupt(): void;
} {
  const started = Date.now();
  const child = spawn(process.execPath, [request.bin ?? TRUSTLAB_BIN, ...runArguments(request)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...(request.env ?? process.env),
      TRUSTLAB_RUN: '',
      NO_COLOR: '1',
      [LOCK_TOKEN_VARIABLE]: request.lockToken,
    },
  });
  const log = createWriteStream(request.logFile, { flags: 'a' });
  log.write(`# ${new Date().toISOString()} trustlab ${runArguments(request).join(' ')}\n`);
  child.stderr.pipe(log, { end: false });
  let lastHeard = Date.now();
  let error: string | null = null;
  let stalled = false;
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    lastHeard = Date.now();
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      log.write(`[stdout] ${line}\n`); // not one of ours: keep it, do not lose it
      return;
    }
    if (event.event === 'error' && typeof event.message === 'string') error = event.message;
    request.onEvent(event);
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // the group is gone
    }
  };
  let killTimer: NodeJS.Timeout | undefined;
  const watchdog = setInterval(
    () => {
      if (stalled || Date.now() - lastHeard < request.stallTimeoutMs) return;
      stalled = true;
      log.write(`# no progress for ${request.stallTimeoutMs} ms: stopping the run\n`);
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), 10_000);
    },
    Math.min(1_000, request.stallTimeoutMs),
  );
  const done = new Promise<ChildRunResult>((resolve) => {
    child.once('close', (exitCode, signal) => {
      clearInterval(watchdog);
      clearTimeout(killTimer);
      // A killed child may leave workers in its group: they go with it.
      if (stalled) signalGroup('SIGKILL');
      log.end(`# exit ${exitCode ?? signal} after ${Date.now() - started} ms\n`);
      resolve({ exitCode, signal, stalled, error, durationMs: Date.now() - started });
    });
    child.once('error', (e) => {
      error = `cannot start trustlab run: ${e.message}`;
    });
  });
  // Ctrl-C reaches the child as it would in a terminal: it restores the case it is in, then stops.
  return { done, interrupt: () => signalGroup('SIGINT') };
}
