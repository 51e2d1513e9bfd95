import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so the same data always hashes the same. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/**
 * A short revision of the scenario catalogue: the hash of its data. Two runs with the same revision
 * ran the same scenarios with the same certificate specs, settings and expectations.
 */
export function catalogueRevision(catalogue: unknown): string {
  return createHash('sha256').update(stableJson(catalogue)).digest('hex').slice(0, 12);
}
