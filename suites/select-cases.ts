import type { MatrixCase } from './scenario-model.ts';
import { SANITY } from './scenarios.ts';

/** A `--cases` pattern as a whole-id match: `*` stands for anything, every other character for itself. */
export function casePattern(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
}

/**
 * The scenarios of a list run after the catalogue (rotation, sessions) that the patterns name: all
 * when no pattern was given; a pattern that names none of them is an error.
 */
export function selectNamed<T extends { readonly id: string }>(
  all: readonly T[],
  patterns: readonly string[] | undefined,
  what: string,
): T[] {
  if (patterns === undefined) return [...all];
  for (const p of patterns)
    if (!all.some((s) => casePattern(p).test(s.id))) throw new Error(`--cases: "${p}" names no ${what} case`);
  return all.filter((s) => patterns.some((p) => casePattern(p).test(s.id)));
}

/**
 * The cases `--cases` names: exact case ids, or globs where `*` stands for anything
 * (`names::*`, `anchors::wrong-ca*` for a scenario and its settings variants). The sanity case
 * always stays: it gates the rest. A pattern that names nothing is an error.
 */
export function selectCases(
  matrix: readonly MatrixCase[],
  patterns: readonly string[] | undefined,
): MatrixCase[] {
  if (!patterns || patterns.length === 0) return [...matrix];
  const matches = (c: MatrixCase, p: string) => (p.includes('*') ? casePattern(p).test(c.id) : c.id === p);
  for (const p of patterns) {
    if (!matrix.some((c) => matches(c, p))) throw new Error(`--cases: "${p}" names no case of this matrix`);
  }
  return matrix.filter((c) => c.id === SANITY || patterns.some((p) => matches(c, p)));
}
