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
import { contractProblem } from './contract.ts';
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

/** A line of results.jsonl that is not a TrustLab record, and why. */
export interface ResultsProblem {
  /** 1-based. */
  readonly line: number;
  readonly problem: string;
}

/** results.jsonl holds lines that are not TrustLab records: each named, the valid records kept. */
export class ResultsFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly ResultsProblem[],
    readonly records: readonly CaseRecord[],
  ) {
    const shown = problems
      .slice(0, 3)
      .map((p) => `line ${p.line}: ${p.problem}`)
      .join('; ');
    const more = problems.length > 3 ? `; and ${problems.length - 3} more` : '';
    super(
      `${file}: ${problems.length} line(s) are not TrustLab records (${shown}${more}); the file is left as it is and its ${records.length} valid record(s) are kept (trustlab run --resume moves the bad lines aside, keeping a copy)`,
    );
    this.name = 'ResultsFileError';
  }
}

/** Every line of the file checked against the record contract: the records, and the lines that are not. */
export function checkResults(text: string): { records: CaseRecord[]; problems: ResultsProblem[] } {
  const records: CaseRecord[] = [];
  const problems: ResultsProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // The last line of a file that does not end in a newline: a kill mid-write, not a foreign line.
      if (i === lines.length - 1) return;
      problems.push({ line: i + 1, problem: 'not JSON' });
      return;
    }
    const problem = contractProblem('case-record', value);
    if (problem) problems.push({ line: i + 1, problem });
    else records.push(value as CaseRecord);
  });
  return { records, problems };
}

/**
 * Reads results.jsonl, every line checked against the record contract. A torn last line (a kill
 * mid-write) is skipped; any other line that is not a record throws `ResultsFileError`, naming the
 * line and the field, with the valid records on the error. The file itself is never changed here.
 */
export function readRecords(file: string): CaseRecord[] {
  const { records, problems } = checkResults(readFileSync(file, 'utf8'));
  if (problems.length > 0) throw new ResultsFileError(file, problems, records);
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
 * Makes results.jsonl valid again before a resume: lines a kill tore and lines that are not records
 * (not JSON, or not meeting the record contract) are taken out, the original is copied beside it
 * first, and the cleaned file replaces it atomically (written, flushed, renamed), so nothing is lost.
 */
export function repairResults(file: string): ResultsRepair {
  if (!existsSync(file)) return { removedLines: [], copy: null };
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const removedLines: number[] = [];
  const kept: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      removedLines.push(i + 1);
      return;
    }
    if (contractProblem('case-record', value) === null) kept.push(line);
    else removedLines.push(i + 1);
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
