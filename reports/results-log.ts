import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CaseRecord } from './record.ts';

/**
 * Appends one JSON line per case and flushes it to disk before returning, so a crash or a kill
 * loses nothing already recorded.
 */
export function appendRecord(file: string, record: CaseRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'a');
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads results.jsonl; a torn last line (a kill mid-write) is skipped, not fatal. */
export function readRecords(file: string): CaseRecord[] {
  const records: CaseRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as CaseRecord);
    } catch {
      // Only the last line can be torn; anything recorded before it is intact.
    }
  }
  return records;
}
