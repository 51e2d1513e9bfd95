import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AtEngine } from '../at/engine.ts';
import type { DeviceIdentity } from '../drivers/driver.ts';
import { type ReplayReport, replayPending } from '../drivers/journal-replay.ts';
import { type JournalHeader, RestoreJournal, readJournal } from '../drivers/restore-journal.ts';

/** The lab's state folder: reset budget, per-device restore journals (TRUSTLAB_STATE_DIR overrides). */
export const stateDir = (): string => process.env.TRUSTLAB_STATE_DIR ?? join(homedir(), '.trustlab');

/** The per-device journal for a device address (one file per port; the IMEI inside says which module). */
export function deviceJournalPath(device: string): string {
  return join(stateDir(), 'journals', `${device.replace(/[^A-Za-z0-9._-]+/g, '_')}.jsonl`);
}

export const RUN_JOURNAL_FILE = 'restore-journal.jsonl';

/** One AT command of printable ASCII: a journal line can never smuggle a second command or raw data. */
const REPLAYABLE = /^AT[\x20-\x7e]*$/;

/** What a recovery found and did: nothing (no open journal), or the replay of one. */
export interface Recovery {
  readonly journal: string;
  readonly header: JournalHeader | null;
  readonly report: ReplayReport | null;
  readonly notes: readonly string[];
}

export class RecoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecoveryError';
  }
}

/**
 * Replays an open journal on the device it was written for: every pending change put back, newest
 * first, and the journal (and the run folder's copy) marked restored, closed when nothing is left.
 * A journal written for another module (its IMEI differs) is not replayed: a RecoveryError says so.
 */
export async function recoverFromJournal(
  at: AtEngine,
  identity: DeviceIdentity,
  family: string,
  journalPath: string,
  timeoutMs: number,
): Promise<Recovery> {
  const state = readJournal(journalPath);
  const notes: string[] = [];
  if (state?.tornTail) notes.push('the last line was cut short (the process died writing it) and is ignored');
  if (!state?.open || !state.header)
    return { journal: journalPath, header: state?.header ?? null, report: null, notes };
  const { header } = state;
  if (header.family !== family) {
    throw new RecoveryError(
      `${journalPath} holds ${header.family} commands; the device was opened as ${family}: not replayed (pass --driver ${header.family})`,
    );
  }
  const unsafe = state.pending.flatMap((p) =>
    'commands' in p.undo ? p.undo.commands.filter((c) => !REPLAYABLE.test(c)) : [],
  );
  if (unsafe.length > 0) {
    throw new RecoveryError(
      `${journalPath} holds lines that are not single AT commands: ${unsafe.join(' | ')}`,
    );
  }
  if (header.imei && identity.imei && header.imei !== identity.imei) {
    throw new RecoveryError(
      `${journalPath} was written for the module with IMEI ${header.imei}; this port now answers IMEI ${identity.imei}: not replayed (pass --journal to choose another, or move the file away)`,
    );
  }
  const report = await replayPending(at, state.pending, timeoutMs);
  const copies = header.run ? [journalPath, join(header.run, RUN_JOURNAL_FILE)] : [journalPath];
  const marks = RestoreJournal.reopen(copies);
  for (const id of report.restoredIds) marks.restored(id);
  if (report.failed.length === 0) marks.close();
  else marks.release();
  return { journal: journalPath, header, report, notes };
}

/** One line per event of a recovery, for the console and the transcript. */
export function describeRecovery(recovery: Recovery): string[] {
  if (!recovery.report)
    return [`${recovery.journal}: no open journal, nothing to restore`, ...recovery.notes];
  const { restored, failed } = recovery.report;
  return [
    `${recovery.journal}: replaying the journal of ${recovery.header?.run ?? 'an earlier run'} (${restored.length + failed.length} change(s) left)`,
    ...recovery.notes,
    ...restored.map((r) => `restored ${r}`),
    ...failed.map((f) => `NOT restored ${f}`),
  ];
}
