import type { ValidityWindow } from '../pki-spec.ts';
import { type Base, define, rejects } from './define.ts';
import type { CatalogueEntry } from './types.ts';

/** A year-wide window that ended a year before the device clock: expired beyond any clock skew. */
const EXPIRED: ValidityWindow = { notBeforeDays: -730, notAfterDays: -365 };
/** A window that opens a year after the device clock. */
const NOT_YET_VALID: ValidityWindow = { notBeforeDays: 365, notAfterDays: 730 };

const WHERE = [
  { ref: 'leaf', word: 'leaf', depth: 0 },
  { ref: 'ica1', word: 'intermediate', depth: 1 },
  { ref: 'root', word: 'root', depth: 2 },
] as const;

/** Validity windows, placed relative to the device clock so each case stays true on any date. */
export function validityEntries(base: Base): CatalogueEntry[] {
  return WHERE.flatMap(({ ref, word, depth }) => [
    define(base, {
      id: `validity::${word}-expired`,
      title: `the ${word} expired a year before the device clock`,
      change: [{ op: 'set', ref, fields: { validity: EXPIRED } }],
      expect: rejects('CERT_HAS_EXPIRED', depth),
    }),
    define(base, {
      id: `validity::${word}-not-yet-valid`,
      title: `the ${word} becomes valid a year after the device clock`,
      change: [{ op: 'set', ref, fields: { validity: NOT_YET_VALID } }],
      expect: rejects('CERT_NOT_YET_VALID', depth),
    }),
  ]);
}
