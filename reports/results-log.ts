import {
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
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

/** What repairing results.jsonl did: the lines it took out, and where the original was kept. */
export interface ResultsRepair {
  /** 1-based line numbers of the torn or malformed lines removed. */
  readonly removedLines: readonly number[];
  /** The untouched original, beside the file; null when nothing needed repair. */
  readonly copy: string | null;
}

/**
 * Makes results.jsonl valid JSON Lines again before a resume: lines a kill tore (or anything else
 * that is not JSON) are taken out, the original is copied beside it first, and the cleaned file
 * replaces it atomically (written, flushed, renamed), so `jq` reads every line and nothing is lost.
 */
export function repairResults(file: string): ResultsRepair {
  if (!existsSync(file)) return { removedLines: [], copy: null };
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const removedLines: number[] = [];
  const kept: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      JSON.parse(line);
      kept.push(line);
    } catch {
      removedLines.push(i + 1);
    }
  });
  if (removedLines.length === 0 && (text === '' || text.endsWith('\n'))) return { removedLines, copy: null };
  const copy = join(
    dirname(file),
    `${basename(file)}.torn-${new Date().toISOString().replace(/[:.]/g, '-')}`,
  );
  copyFileSync(file, copy);
  const temporary = `${file}.repair-${process.pid}`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, kept.length > 0 ? `${kept.join('\n')}\n` : '');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  return { removedLines, copy };
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
