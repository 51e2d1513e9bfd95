import { type AtEngine, TRANSIENT_RETRIES } from '../at/engine.ts';
import type { RestoreStack } from './restore-stack.ts';

/**
 * AT+CCLK time: `"yy/MM/dd,hh:mm:ss±zz"`, zz the offset from UTC in quarter hours. The harness writes
 * UTC (+00) and reads any offset.
 */
export function formatCclk(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const yy = date.getUTCFullYear() % 100;
  return `"${p(yy)}/${p(date.getUTCMonth() + 1)}/${p(date.getUTCDate())},${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())}+00"`;
}

/** The instant a `+CCLK: "…"` answer names, or null when it is not in that shape. Years are 2000–2099. */
export function parseCclk(line: string): Date | null {
  const m = /"(\d\d)\/(\d\d)\/(\d\d),(\d\d):(\d\d):(\d\d)([+-]\d\d?)?"/.exec(line);
  if (!m) return null;
  const [, yy, mo, dd, hh, mi, ss, tz] = m.map(Number) as number[];
  const utc = Date.UTC(2000 + (yy ?? 0), (mo ?? 1) - 1, dd ?? 1, hh ?? 0, mi ?? 0, ss ?? 0);
  const offsetMin = (Number.isFinite(tz) ? (tz as number) : 0) * 15;
  const date = new Date(utc - offsetMin * 60_000);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** What setting the clock needs: an engine, a bound per command, and retries for transient refusals. */
export interface ClockAccess {
  readonly at: AtEngine;
  readonly timeoutMs: number;
}

/**
 * Sets the module clock (UTC) for a case with AT+CCLK (27.007, so every dialect here) and puts the
 * original back on the restore stack, advanced by the time that passed. The write is read back: a
 * module that keeps its own time would otherwise judge validity against a clock nobody set.
 */
export async function setCaseClock(
  { at, timeoutMs }: ClockAccess,
  date: Date,
  stack: RestoreStack,
): Promise<void> {
  const options = { timeoutMs, retries: TRANSIENT_RETRIES };
  const read = async () => {
    const r = await at.commandOk('AT+CCLK?', options);
    return { r, date: parseCclk(r.lines.find((l) => l.startsWith('+CCLK:')) ?? '') };
  };
  const before = await read();
  const original = before.date;
  if (!original)
    throw new Error(`cannot read the module clock: ${before.r.lines.join(' | ') || before.r.final}`);
  const takenAt = Date.now();
  stack.push('CCLK back to the original clock', () =>
    at.commandOk(`AT+CCLK=${formatCclk(new Date(original.getTime() + Date.now() - takenAt))}`, options),
  );
  await at.commandOk(`AT+CCLK=${formatCclk(date)}`, options);
  const after = await read();
  if (!after.date || Math.abs(after.date.getTime() - date.getTime()) > 5_000) {
    throw new Error(`clock read back ${after.r.lines.join(' | ')} after setting ${formatCclk(date)}`);
  }
}

/** Closer than this to the wanted time, the device clock is left as it is. */
const CLOCK_TOLERANCE_MS = 3_000;

/**
 * The device clock across a run (delta configuration): the original is read once and put back at
 * the end of the run (journaled, so `trustlab restore` can do it after a crash); a case sets the
 * clock only when the time it wants is not already what the device shows, and a case that wants
 * none gets the original time back if an earlier case moved it.
 */
export class RunClock {
  readonly #access: ClockAccess;
  #original: { readonly date: Date; readonly takenAt: number } | null = null;
  /** Device time minus host time as last set or read; null when unknown (start, after a reboot). */
  #offsetMs: number | null = null;

  constructor(access: ClockAccess) {
    this.#access = access;
  }

  /** Brings the clock to `target` (null: the original, advanced), reading back what it set. */
  async ensure(target: Date | null, stack: RestoreStack): Promise<void> {
    const { at, timeoutMs } = this.#access;
    const options = { timeoutMs, retries: TRANSIENT_RETRIES };
    if (this.#original === null) {
      if (target === null) return; // never moved: nothing to put back
      const r = await at.commandOk('AT+CCLK?', options);
      const date = parseCclk(r.lines.find((l) => l.startsWith('+CCLK:')) ?? '');
      if (!date) throw new Error(`cannot read the module clock: ${r.lines.join(' | ') || r.final}`);
      const original = { date, takenAt: Date.now() };
      this.#original = original;
      this.#offsetMs = date.getTime() - original.takenAt;
      const back = () => new Date(original.date.getTime() + Date.now() - original.takenAt);
      stack.push(
        'CCLK back to the original clock',
        () => at.commandOk(`AT+CCLK=${formatCclk(back())}`, options),
        {
          clock: { original: date.toISOString(), takenAt: new Date(original.takenAt).toISOString() },
        },
      );
    }
    const original = this.#original;
    const wanted = target ?? new Date(original.date.getTime() + Date.now() - original.takenAt);
    if (
      this.#offsetMs !== null &&
      Math.abs(Date.now() + this.#offsetMs - wanted.getTime()) < CLOCK_TOLERANCE_MS
    )
      return;
    await at.commandOk(`AT+CCLK=${formatCclk(wanted)}`, options);
    const r = await at.commandOk('AT+CCLK?', options);
    const read = parseCclk(r.lines.find((l) => l.startsWith('+CCLK:')) ?? '');
    if (!read || Math.abs(read.getTime() - wanted.getTime()) > 5_000) {
      this.#offsetMs = null;
      throw new Error(`clock read back ${r.lines.join(' | ')} after setting ${formatCclk(wanted)}`);
    }
    this.#offsetMs = wanted.getTime() - Date.now();
  }

  /** The device time is no longer known (a reboot, a fault); the original is kept for the restore. */
  forget(): void {
    this.#offsetMs = null;
  }

  /** The run's restore put the original back: the next case starts from scratch. */
  reset(): void {
    this.#original = null;
    this.#offsetMs = null;
  }
}

/** Whether +CCLK can carry this instant: its two-digit year reads as 2000–2099 (seconds are truncated). */
export function cclkCanHold(date: Date): boolean {
  const year = date.getUTCFullYear();
  return year >= 2000 && year <= 2099;
}
