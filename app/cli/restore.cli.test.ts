import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUE_HOST } from '../../certs/catalogue/index.ts';
import { AtEngine } from '../../harness/at/engine.ts';
import { Transcript } from '../../harness/at/transcript.ts';
import { parseCclk } from '../../harness/drivers/cclk.ts';
import { DOCUMENTED_SSL_KEYS } from '../../harness/drivers/quectel/ssl-keys.ts';
import { deviceJournalPath } from '../../harness/runner/journal-recovery.ts';
import { openTransport, parseDeviceAddress } from '../../harness/transport/open.ts';
import { dialledNames } from '../../suites/plan-case.ts';
import { type SimServer, startSimServer } from './sim-command.ts';

const BIN = fileURLToPath(new URL('../../bin/trustlab.js', import.meta.url));
/** Settings, files and MQTT binding a case changes, then changes back: the anchor, SNI, the clock. */
const CASES = 'anchors::right-ca,anchors::right-ca[sni=0],anchors::wrong-ca,validity::leaf-expired';

/** Everything a run may change on the module, read through its AT port: the owned context, MQTT client, files, clock. */
// Kill points (the journal's change count): 1 = before the first upload, 3 = between two SSL
// settings, 6 = the clock entry written, 7 = the MQTT client about to open.
interface DeviceState {
  readonly settings: Record<string, string>;
  readonly clock: Date;
}

async function readState(sim: SimServer): Promise<DeviceState> {
  await sim.free();
  const stream = await openTransport(parseDeviceAddress(`tcp://127.0.0.1:${sim.port}`));
  try {
    const at = new AtEngine(stream, { transcript: new Transcript(), defaultTimeoutMs: 5_000 });
    const settings: Record<string, string> = {};
    const ask = async (command: string) => {
      const r = await at.command(command);
      settings[command] = [...r.lines, r.final].join(' | ');
    };
    for (const key of DOCUMENTED_SSL_KEYS) await ask(`AT+QSSLCFG="${key}",1`);
    for (const key of ['ssl', 'version']) await ask(`AT+QMTCFG="${key}",1`);
    await ask('AT+QFLST="*"');
    // An MQTT client the killed case left open holds its index and its broker connection.
    await ask('AT+QMTOPEN?');
    const cclk = await at.command('AT+CCLK?');
    const clock = parseCclk(cclk.lines.find((l) => l.startsWith('+CCLK:')) ?? '');
    if (!clock) throw new Error(`no clock: ${cclk.lines.join(' | ')}`);
    return { settings, clock };
  } finally {
    stream.destroy();
  }
}

/** Change lines in a journal file, counted only when the journal is the one `run` began (else 0). */
function changesIn(file: string, run?: string): number {
  if (!existsSync(file)) return 0;
  const lines = readFileSync(file, 'utf8').split('\n');
  if (run && !lines[0]?.includes(`"run":${JSON.stringify(run)}`)) return 0;
  return lines.filter((l) => l.includes('"t":"change"')).length;
}

/** Resolves once the journal `run` began holds `count` changes: on the folder's change events, bounded. */
function journalReaches(file: string, run: string, count: number, timeoutMs: number): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  return new Promise((resolve, reject) => {
    const watcher = watch(dirname(file), () => check());
    const timer = setTimeout(() => {
      watcher.close();
      reject(
        new Error(
          `${file} did not reach ${count} change(s) within ${timeoutMs} ms (has ${changesIn(file, run)})`,
        ),
      );
    }, timeoutMs);
    const check = () => {
      if (changesIn(file, run) < count) return;
      clearTimeout(timer);
      watcher.close();
      resolve();
    };
    check();
  });
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));

describe('trustlab restore after the harness was killed (SIGKILL) mid-case', () => {
  let sim: SimServer;
  let device: string;
  let journal: string;
  let before: DeviceState;
  let takenAt: number;
  const env = { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' };

  beforeAll(async () => {
    sim = await startSimServer({
      listen: 'tcp://127.0.0.1:0',
      family: 'quectel',
      host: dialledNames(CATALOGUE_HOST).map((name) => `${name}=127.0.0.1`),
    });
    device = `tcp://127.0.0.1:${sim.port}`;
    journal = deviceJournalPath(device);
    takenAt = Date.now();
    before = await readState(sim);
  });
  afterAll(async () => sim?.stop());

  const expectAsBefore = async () => {
    const after = await readState(sim);
    expect(after.settings).toEqual(before.settings);
    // The original time, advanced by the time that passed (CCLK has a one-second step).
    const expected = before.clock.getTime() + Date.now() - takenAt;
    expect(Math.abs(after.clock.getTime() - expected)).toBeLessThan(5_000);
  };

  const killedAt = async (changes: number) => {
    const out = mkdtempSync(join(tmpdir(), 'trustlab-killed-'));
    const args = [BIN, 'run', '--device', device, '--cases', CASES, '--dial-name', CATALOGUE_HOST];
    // Its own process group: the kill takes the run and the test worker it started, as a crash does.
    const child = spawn(process.execPath, [...args, '--out', out, '--no-allure-report', '--json'], {
      env,
      detached: true,
      stdio: 'ignore',
    });
    try {
      // The journal of an earlier test is still there until this run begins its own.
      await journalReaches(journal, out, changes, 60_000);
    } finally {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      await exited(child);
    }
    return out;
  };

  it.each([1, 3, 6, 7])(
    'killed once the journal holds %i change(s): restore puts back every setting, file and the clock',
    async (changes) => {
      const out = await killedAt(changes);
      // The run's copy says the same as the lab's, but for the line the kill may have cut it short
      // of (each line goes to the lab's copy first).
      expect(changesIn(join(out, 'restore-journal.jsonl'))).toBeGreaterThanOrEqual(changes - 1);
      await sim.free();
      const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'restore', '--device', device], {
        env,
      });
      expect(stdout).toMatch(/replaying the journal of/);
      expect(stdout.match(/^restored /gm)?.length).toBeGreaterThanOrEqual(changes);
      expect(stdout).not.toMatch(/NOT restored/);
      await expectAsBefore();
      // Nothing left: a second restore finds the journal closed.
      const again = await promisify(execFile)(process.execPath, [BIN, 'restore', '--device', device], {
        env,
      });
      expect(again.stdout).toMatch(/no open journal, nothing to restore/);
    },
    120_000,
  );

  it('refuses a journal of another module or family, a malformed or smuggling journal and an unreachable port, each with the reason (exit 2)', async () => {
    const restore = (...extra: string[]) =>
      promisify(execFile)(process.execPath, [BIN, 'restore', '--device', device, ...extra], { env }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
      );
    const folder = mkdtempSync(join(tmpdir(), 'trustlab-journals-'));
    const foreign = join(folder, 'foreign.jsonl');
    const header = { t: 'open', at: new Date().toISOString(), device, family: 'quectel', run: null };
    const change = {
      t: 'change',
      id: 1,
      label: 'sni back to 1',
      undo: { commands: ['AT+QSSLCFG="sni",1,1'] },
    };
    writeFileSync(
      foreign,
      `${JSON.stringify({ ...header, imei: '490154203237518' })}\n${JSON.stringify(change)}\n`,
    );
    const other = await restore('--journal', foreign);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /written for the module with IMEI 490154203237518; this port now answers IMEI \d+: not replayed/,
    );
    const malformed = join(folder, 'malformed.jsonl');
    writeFileSync(malformed, `${JSON.stringify({ ...header, imei: null })}\n{"t":"change"\n`);
    const bad = await restore('--journal', malformed);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/malformed\.jsonl: line 2 is not JSON/);
    const nrf = join(folder, 'nrf.jsonl');
    writeFileSync(
      nrf,
      `${JSON.stringify({ ...header, family: 'nrf91-slm', imei: null })}\n${JSON.stringify(change)}\n`,
    );
    const family = await restore('--journal', nrf);
    expect(family.code).toBe(2);
    expect(family.stderr).toMatch(/holds nrf91-slm commands; the device was opened as quectel: not replayed/);
    const smuggled = join(folder, 'smuggled.jsonl');
    const two = { ...change, undo: { commands: ['AT+QSSLCFG="sni",1,1\rAT+QFDEL="UFS:product.pem"'] } };
    writeFileSync(smuggled, `${JSON.stringify({ ...header, imei: null })}\n${JSON.stringify(two)}\n`);
    const injected = await restore('--journal', smuggled);
    expect(injected.code).toBe(2);
    expect(injected.stderr).toMatch(/not single AT commands/);
    // Nothing was sent for any of them: the setting is as found.
    await expectAsBefore();
    const gone = await promisify(execFile)(
      process.execPath,
      [BIN, 'restore', '--device', 'tcp://127.0.0.1:1'],
      {
        env,
      },
    ).catch((err: { code: number; stderr: string }) => err);
    expect('code' in gone && gone.code).toBe(2);
    expect('stderr' in gone && gone.stderr).toMatch(/tcp:\/\/127\.0\.0\.1:1/);
  }, 60_000);

  it('the next trustlab run on the device replays an open journal before anything else', async () => {
    await killedAt(4);
    await sim.free();
    const out = mkdtempSync(join(tmpdir(), 'trustlab-after-kill-'));
    const args = [
      BIN,
      'run',
      '--device',
      device,
      '--cases',
      'anchors::right-ca',
      '--dial-name',
      CATALOGUE_HOST,
    ];
    await promisify(execFile)(process.execPath, [...args, '--out', out, '--no-allure-report', '--json'], {
      env,
    });
    const start = readFileSync(join(out, 'transcripts', 'run-start.txt'), 'utf8');
    expect(start).toMatch(/replaying the journal of/);
    expect(start).not.toMatch(/NOT restored/);
    await expectAsBefore();
  }, 120_000);
});
