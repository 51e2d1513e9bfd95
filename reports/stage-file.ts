import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The case's current stage, passed from the suite (a vitest worker) to the progress display (the
 * CLI process) through a small file in the run folder: the two are separate processes, and vitest
 * offers no side channel that stays out of the test reports.
 */
export const STAGE_FILE = '.stage.json';

export interface StageNote {
  readonly case: string;
  /** The last AT command sent (its name only, e.g. `AT+QMTOPEN`), or a harness step. */
  readonly stage: string;
  readonly at: number;
}

export function writeStage(outDir: string, note: StageNote): void {
  const file = join(outDir, STAGE_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(note));
  renameSync(temporary, file);
}

export function readStage(outDir: string): StageNote | null {
  try {
    return JSON.parse(readFileSync(join(outDir, STAGE_FILE), 'utf8')) as StageNote;
  } catch {
    return null; // none yet, or the suite does not publish stages
  }
}

/** The command name of an AT line, without its arguments (which hold ports and sizes). */
export function atCommandName(line: string): string | null {
  return /^\s*(AT[+%#$^]?[A-Z0-9_]*)/i.exec(line)?.[1]?.toUpperCase() ?? null;
}
