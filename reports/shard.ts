import { createHash } from 'node:crypto';

/** One slice of the catalogue: `index` of `count`, 1-based as written on the command line. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses `i/n` (1 ≤ i ≤ n). */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new Error(`--shard expects i/n with 1 ≤ i ≤ n (e.g. 2/4), got "${text}"`);
  }
  return { index, count };
}

export const formatShard = (s: Shard) => `${s.index}/${s.count}`;

/**
 * Which shard a case belongs to, from a hash of its id: stable across runs and hosts, and adding a
 * scenario to the catalogue does not move any other case to another shard.
 */
export function shardOf(caseId: string, count: number): number {
  const h = createHash('sha256').update(caseId).digest();
  return (h.readUInt32BE(0) % count) + 1;
}

/**
 * The cases a shard runs, in catalogue order. `everyShard` cases (the sanity case that gates the
 * device) run in every shard; merge keeps one of them.
 */
export function selectShard<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  shard: Shard | undefined,
  everyShard: ReadonlySet<string> = new Set(),
): T[] {
  if (!shard || shard.count === 1) return [...items];
  return items.filter(
    (item) => everyShard.has(idOf(item)) || shardOf(idOf(item), shard.count) === shard.index,
  );
}
