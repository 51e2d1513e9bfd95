import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * EC200U-CN release notes cite at most 30 power-on/off and CFUN toggles a day "to extend flash
 * memory service life" (lab-patterns-and-at-dialects.md B.3).
 */
export const DEFAULT_DAILY_RESETS = 30;

/** The budget for today is spent: the harness will not reset this device again until tomorrow (UTC). */
export class ResetBudgetExceededError extends Error {
  constructor(device: string, limit: number) {
    super(`reset budget of ${device} spent: ${limit} resets today (UTC); not resetting again`);
    this.name = 'ResetBudgetExceededError';
  }
}

type Counts = Record<string, { day: string; used: number }>;

/**
 * Counts resets per device per UTC day in a small JSON file, so separate runs on the same day share
 * the budget. Without a file it counts in memory (one process).
 */
export class ResetBudget {
  readonly #file: string | null;
  readonly #limit: number;
  readonly #now: () => Date;
  #memory: Counts = {};

  constructor(options: { file?: string | null; limit?: number; now?: () => Date } = {}) {
    this.#file = options.file ?? null;
    this.#limit = options.limit ?? DEFAULT_DAILY_RESETS;
    this.#now = options.now ?? (() => new Date());
  }

  /** Resets left today for the device. */
  remaining(device: string): number {
    const entry = this.#load()[device];
    return entry?.day === this.#today() ? this.#limit - entry.used : this.#limit;
  }

  /** Takes one reset from today's budget, or throws before anything is sent to the device. */
  consume(device: string): void {
    const counts = this.#load();
    const day = this.#today();
    const entry =
      counts[device]?.day === day ? (counts[device] as { day: string; used: number }) : { day, used: 0 };
    if (entry.used >= this.#limit) throw new ResetBudgetExceededError(device, this.#limit);
    counts[device] = { day, used: entry.used + 1 };
    this.#save(counts);
  }

  #today(): string {
    return this.#now().toISOString().slice(0, 10);
  }

  #load(): Counts {
    if (!this.#file) return this.#memory;
    let text: string;
    try {
      text = readFileSync(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
    // A damaged counter fails closed: better no reset than a device worn past its budget.
    return JSON.parse(text) as Counts;
  }

  #save(counts: Counts): void {
    if (!this.#file) {
      this.#memory = counts;
      return;
    }
    mkdirSync(dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(counts, null, 2)}\n`);
    renameSync(tmp, this.#file);
  }
}
