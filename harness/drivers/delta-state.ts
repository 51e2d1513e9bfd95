import { createHash } from 'node:crypto';
import type { RestoreJournal } from './restore-journal.ts';
import { RestoreStack, registerForAbort } from './restore-stack.ts';

/**
 * What a driver knows of the device between cases, so that a case sends only what differs from
 * the previous one (delta configuration): setting values as last read or set, the hash of every
 * owned file as uploaded (confirmed by the device's own length/checksum answer), and the run's
 * restore stack, which holds each setting's original value once and is unwound at the end of the
 * run. Forgetting (after a reboot, a fault, a refused command) makes the next case learn again;
 * the originals stay on the stack.
 */
export class DeltaState {
  readonly settings = new Map<string, string>();
  readonly files = new Map<string, { readonly hash: string; readonly size: number }>();
  /** Setting keys and file paths whose original is already on the run stack. */
  readonly #onStack = new Set<string>();
  #stack: RestoreStack;
  #unregister: () => void;
  readonly #journal: RestoreJournal | null;
  /** False until the device's settings were read once (and again after forget). */
  learned = false;

  constructor(journal: RestoreJournal | null) {
    this.#journal = journal;
    this.#stack = new RestoreStack(journal);
    // SIGINT puts back the run's settings too, not only the running case's.
    this.#unregister = registerForAbort(this.#stack);
  }

  get stack(): RestoreStack {
    return this.#stack;
  }

  /** True the first time a key is seen: its undo goes on the run stack then, never again. */
  firstChange(key: string): boolean {
    if (this.#onStack.has(key)) return false;
    this.#onStack.add(key);
    return true;
  }

  forget(): void {
    this.settings.clear();
    this.files.clear();
    this.learned = false;
  }

  /** Puts back everything the run changed; the device is then as found, and nothing is known. */
  async restore(): Promise<string[]> {
    const failures = await this.#stack.unwind();
    this.forget();
    this.#onStack.clear();
    this.#unregister();
    this.#stack = new RestoreStack(this.#journal);
    this.#unregister = registerForAbort(this.#stack);
    return failures;
  }
}

/** Where a case's settings go: a restore stack, and the delta state when settings persist between cases. */
export interface CaseSetup {
  readonly stack: RestoreStack;
  readonly delta: DeltaState | null;
}

/** Under delta configuration a setting's undo goes on the run's stack, else on the case's. */
export function setupFor(delta: DeltaState | null, caseStack: RestoreStack): CaseSetup {
  return delta ? { stack: delta.stack, delta } : { stack: caseStack, delta: null };
}

export const contentHash = (content: string | Buffer): string =>
  createHash('sha256').update(content).digest('hex');
