import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { CaseRecord } from './record.ts';

export const RESULTS_FILE = 'results.jsonl';

/** True when the file is non-empty and its last byte is not a newline (a kill mid-write). */
function endsTorn(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}

/**
 * Appends one JSON line per case and flushes it to disk before returning, so a crash or a kill
 * loses nothing already recorded. A torn last line left by a kill is closed off first, so the new
 * record starts on its own line instead of being glued to the fragment.
 */
export function appendRecord(file: string, record: CaseRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'a+');
  try {
    const prefix = endsTorn(fd) ? '\n' : '';
    writeSync(fd, `${prefix}${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads results.jsonl; a torn line (a kill mid-write) is skipped, not fatal. */
export function readRecords(file: string): CaseRecord[] {
  const records: CaseRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as CaseRecord);
    } catch {
      // A torn line from a kill; everything recorded before and after it is intact.
    }
  }
  return records;
}

/**
 * One record per case: a case recorded again (a blocked case run on resume) keeps the position of
 * its first record and the content of its last.
 */
export function latestPerCase(records: readonly CaseRecord[]): CaseRecord[] {
  const byCase = new Map<string, CaseRecord>();
  for (const r of records) byCase.set(r.case, r);
  return [...byCase.values()];
}
