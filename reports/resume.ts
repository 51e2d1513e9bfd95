import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseRecord } from './record.ts';
import { latestPerCase, RESULTS_FILE, readRecords } from './results-log.ts';

const LOCK_FILE = 'run.lock';

/**
 * The cases a run folder already holds, so a resumed run completes only what is missing. A blocked
 * case is not done: it never ran, and runs on resume when the device is healthy again.
 */
export function recordedCases(outDir: string): Map<string, CaseRecord> {
  const file = join(outDir, RESULTS_FILE);
  if (!existsSync(file)) return new Map();
  return new Map(
    latestPerCase(readRecords(file))
      .filter(isSettled)
      .map((r) => [r.case, r]),
  );
}

/**
 * Whether a recorded case stands on a resume. Not when it never reached a verdict about the device
 * (blocked, or failed before TLS), nor when the device was broken while it ran: replaying those
 * would trip the broken-device latch again after a power cycle and the resume would record nothing.
 */
export function isSettled(r: CaseRecord): boolean {
  return r.outcome !== 'blocked' && r.outcome !== 'inconclusive' && r.device.healthy !== false;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the run folder for this process: two runs appending to one results.jsonl would interleave
 * two devices' evidence. A lock left by a killed run (its process gone) is taken over.
 * Returns the release function.
 */
export function acquireRunLock(outDir: string): () => void {
  const file = join(outDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          unlinkSync(file);
        } catch {
          // already gone: nothing to release
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && processAlive(holder)) {
        throw new Error(`${outDir} is in use by process ${holder} (${file}); wait for it or stop it`);
      }
      unlinkSync(file); // stale: its run was killed
    }
  }
  throw new Error(`could not lock ${outDir}`);
}
