/**
 * The harness's bounds are the vendor's response times plus a margin measured at 115200 baud. On a
 * slower line the answer itself takes longer to arrive (10 bits a byte), so every bound is
 * stretched by the time the longest answer the harness expects spends on the wire. The bounds at
 * 115200 are the floor: a faster line never shortens them.
 */
export const DEFAULT_BAUD = 115_200;

/** The longest answer a driver waits for: a test command listing every SSL key with its ranges. */
const LONGEST_ANSWER_BYTES = 2_048;

/** How long the longest expected answer takes on a line of this speed. */
export function serialTimeMs(baud: number): number {
  return Math.ceil((LONGEST_ANSWER_BYTES * 10 * 1_000) / baud);
}

/** A driver's bounds at this line speed (every duration stretched; poll intervals and counts kept). */
export function atLineSpeed<T extends Record<string, number>>(
  timeouts: T,
  baud: number,
  keep: readonly (keyof T)[] = [],
): T {
  if (!Number.isFinite(baud) || baud <= 0)
    throw new Error(`line speed must be a positive baud rate, got ${baud}`);
  const extra = Math.max(0, serialTimeMs(baud) - serialTimeMs(DEFAULT_BAUD));
  if (extra === 0) return timeouts;
  return Object.fromEntries(
    Object.entries(timeouts).map(([k, v]) => [k, keep.includes(k as keyof T) ? v : v + extra]),
  ) as T;
}
