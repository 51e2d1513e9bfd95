import type { JournalUndo, RestoreJournal } from './restore-journal.ts';

/** One change the harness made on a device and how to undo it. */
interface RestoreStep {
  readonly label: string;
  readonly undo: () => Promise<unknown>;
  /** Its entry in the restore journal, marked restored once the undo succeeded. */
  readonly journalId: number | null;
}

/**
 * Undo steps for everything a case changed on a device, run last-in first-out. Unwinding runs
 * every step even when one fails (a failed restore must not leave the others undone), and each step
 * runs at most once, so the end of a case and an abort handler can both call `unwind` safely.
 */
export class RestoreStack {
  readonly #steps: RestoreStep[] = [];
  readonly #journal: RestoreJournal | null;
  #unwinding: Promise<string[]> | null = null;

  /** With a journal, every step pushed with a `replay` is on disk before the change it undoes is made. */
  constructor(journal: RestoreJournal | null = null) {
    this.#journal = journal;
  }

  /**
   * Push before making the change (a change that times out may still have happened). `replay` is
   * the same undo as plain AT commands, for `trustlab restore` after the process died.
   */
  push(label: string, undo: () => Promise<unknown>, replay?: JournalUndo): void {
    const journalId = replay && this.#journal ? this.#journal.change(label, replay) : null;
    this.#steps.push({ label, undo, journalId });
  }

  get size(): number {
    return this.#steps.length;
  }

  /** Runs every pending undo, newest first; returns `label: error` for each that failed. */
  unwind(): Promise<string[]> {
    this.#unwinding ??= (async () => {
      const failures: string[] = [];
      for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
        try {
          await step.undo();
          if (step.journalId !== null) this.#journal?.restored(step.journalId);
        } catch (err) {
          failures.push(`${step.label}: ${(err as Error).message}`);
        }
      }
      return failures;
    })().finally(() => {
      this.#unwinding = null;
    });
    return this.#unwinding;
  }
}

const live = new Set<RestoreStack>();

/** Makes a stack visible to the abort handler while a case runs; returns the function that hides it again. */
export function registerForAbort(stack: RestoreStack): () => void {
  live.add(stack);
  return () => live.delete(stack);
}

/** Unwinds every registered stack (abort path). Bounded: a device that no longer answers cannot hold the exit. */
export async function unwindAllForAbort(timeoutMs = 30_000): Promise<string[]> {
  const all = Promise.all([...live].map((s) => s.unwind())).then((f) => f.flat());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([`abort restore did not finish within ${timeoutMs} ms`]), timeoutMs);
  });
  try {
    return await Promise.race([all, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

let installed = false;

/**
 * On SIGINT/SIGTERM: put back what running cases changed on their devices, report what could not
 * be restored, then exit (130 for SIGINT, 143 for SIGTERM). Installed once per process; a second
 * signal while restoring exits at once.
 */
export function installAbortRestore(
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      if (live.size === 0) process.exit(code);
      process.once(signal, () => process.exit(code));
      log(`${signal}: restoring device settings changed by the running case…`);
      void unwindAllForAbort().then((failures) => {
        for (const f of failures) log(`not restored: ${f}`);
        process.exit(code);
      });
    });
  }
}
