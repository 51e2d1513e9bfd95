import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * How to put one change back with nothing but the AT port: commands sent in order (each must end
 * in OK, unless `bestEffort` — closing a socket that is already closed is not a failure), or the
 * device clock set to its original time advanced by the time that passed since it was read.
 */
export type JournalUndo =
  | { readonly commands: readonly string[]; readonly bestEffort?: boolean }
  | { readonly clock: { readonly original: string; readonly takenAt: string } };

/** Who wrote a journal: the device it changed and the run that changed it. */
export interface JournalHeader {
  readonly device: string;
  readonly family: string;
  readonly imei: string | null;
  readonly run: string | null;
}

type JournalLine =
  | ({ readonly t: 'open'; readonly at: string } & JournalHeader)
  | { readonly t: 'change'; readonly id: number; readonly label: string; readonly undo: JournalUndo }
  | { readonly t: 'restored'; readonly id: number }
  | { readonly t: 'closed'; readonly at: string };

/** A change written to a journal and not yet put back. */
export interface PendingChange {
  readonly id: number;
  readonly label: string;
  readonly undo: JournalUndo;
}

/** What a journal file says: its last header, the changes still to put back, and whether it was closed. */
export interface JournalState {
  readonly header: JournalHeader | null;
  readonly pending: readonly PendingChange[];
  readonly open: boolean;
  /** A last line cut short (the process died while writing it): ignored, and said. */
  readonly tornTail: boolean;
}

export class JournalError extends Error {
  constructor(path: string, why: string) {
    super(`restore journal ${path}: ${why}`);
    this.name = 'JournalError';
  }
}

/**
 * The record of every change the harness made on a device, written and flushed to disk (fsync)
 * *before* the change is made, so a kill -9, a power cut or a host crash at any point leaves a file
 * from which `trustlab restore` can put the device back. One line per event, to every path given
 * (the run folder's copy and the lab's per-device copy).
 */
export class RestoreJournal {
  #fds: number[];
  readonly #paths: readonly string[];
  #next = 1;
  #closed = false;
  /** Changes written and not yet marked restored. */
  readonly #pending = new Set<number>();

  private constructor(fds: number[], paths: readonly string[] = []) {
    this.#fds = fds;
    this.#paths = paths;
  }

  /** Starts a new journal at each path (an earlier, closed journal there is replaced). */
  static start(paths: readonly string[], header: JournalHeader): RestoreJournal {
    const journal = RestoreJournal.prepare(paths);
    journal.begin(header);
    return journal;
  }

  /**
   * A journal that touches no file until `begin` (the header needs the device's identity, and an
   * earlier open journal at the same path must be replayed first).
   */
  static prepare(paths: readonly string[]): RestoreJournal {
    return new RestoreJournal([], paths);
  }

  begin(header: JournalHeader): void {
    if (this.#fds.length > 0 || this.#closed) throw new Error('restore journal already begun');
    this.#fds = this.#paths.map((path) => {
      mkdirSync(dirname(path), { recursive: true });
      return openSync(path, 'w');
    });
    this.#write({ t: 'open', at: new Date().toISOString(), ...header });
  }

  /**
   * Reopens existing journal files to record what a replay put back (appending, no new header).
   * Paths that no longer exist are left out.
   */
  static reopen(paths: readonly string[]): RestoreJournal {
    return new RestoreJournal(paths.filter((p) => existsSync(p)).map((p) => openSync(p, 'a')));
  }

  /** Writes a change (flushed) before it is made; returns its id for `restored`. */
  change(label: string, undo: JournalUndo): number {
    if (this.#fds.length === 0 && this.#paths.length > 0 && !this.#closed)
      throw new Error(`change "${label}" before the restore journal began: it could not be replayed`);
    const id = this.#next++;
    this.#write({ t: 'change', id, label, undo });
    this.#pending.add(id);
    return id;
  }

  restored(id: number): void {
    // Not flushed on its own: the next change's fsync flushes it. A mark lost to a power cut only
    // makes a replay put back, once more, a value that is already back.
    this.#write({ t: 'restored', id }, false);
    this.#pending.delete(id);
  }

  /**
   * Everything was put back: the journal has nothing left to replay. A journal that still holds a
   * change not marked restored (an undo that failed in some case) is only released: it stays open.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#pending.size > 0) return this.release();
    this.#write({ t: 'closed', at: new Date().toISOString() });
    this.#closed = true;
    for (const fd of this.#fds) closeSync(fd);
  }

  /** Lets go of the files without closing the journal (restores failed: the changes stay pending). */
  release(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const fd of this.#fds) closeSync(fd);
  }

  #write(line: JournalLine, flush = true): void {
    if (this.#closed) return;
    const text = `${JSON.stringify(line)}\n`;
    for (const fd of this.#fds) {
      writeSync(fd, text);
      if (flush) fsyncSync(fd);
    }
  }
}

function parseLine(path: string, text: string, index: number): JournalLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JournalError(path, `line ${index + 1} is not JSON`);
  }
  const line = value as Partial<Record<string, unknown>>;
  const ok =
    (line.t === 'open' && typeof line.device === 'string' && typeof line.family === 'string') ||
    (line.t === 'change' &&
      typeof line.id === 'number' &&
      typeof line.label === 'string' &&
      isUndo(line.undo)) ||
    (line.t === 'restored' && typeof line.id === 'number') ||
    line.t === 'closed';
  if (!ok) throw new JournalError(path, `line ${index + 1} is not a journal entry: ${text.slice(0, 120)}`);
  return value as JournalLine;
}

function isUndo(value: unknown): value is JournalUndo {
  const undo = value as Partial<Record<string, unknown>> | null;
  if (!undo || typeof undo !== 'object') return false;
  if (Array.isArray(undo.commands)) return undo.commands.every((c) => typeof c === 'string');
  const clock = undo.clock as Partial<Record<string, unknown>> | undefined;
  return typeof clock?.original === 'string' && typeof clock.takenAt === 'string';
}

/** Reads a journal file; null when there is none. A malformed line is a JournalError naming it. */
export function readJournal(path: string): JournalState | null {
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, 'utf8').split('\n');
  const last = lines.length - 1;
  // A file written line by line ends in "\n"; anything after the last one was cut short.
  const tornTail = lines[last] !== '';
  let header: JournalHeader | null = null;
  const pending = new Map<number, PendingChange>();
  let open = false;
  for (const [index, text] of lines.slice(0, last).entries()) {
    if (text.trim() === '') continue;
    const line = parseLine(path, text, index);
    if (line.t === 'open') {
      const { t: _t, at: _at, ...rest } = line;
      header = rest;
      open = true;
      pending.clear();
    } else if (line.t === 'change') pending.set(line.id, line);
    else if (line.t === 'restored') pending.delete(line.id);
    else open = false;
  }
  if (header === null && (pending.size > 0 || lines.length > 1)) {
    throw new JournalError(path, 'no header line: not a journal this harness wrote');
  }
  return { header, pending: [...pending.values()], open: open && header !== null, tornTail };
}
