import type { MatrixCase } from './scenario-model.ts';
import { SANITY } from './scenarios.ts';

/**
 * The cases `--cases` names: an exact case id, a scenario id (with all its settings variants) or a
 * `family::` prefix. The sanity case always stays: it gates the rest. An unknown pattern is an error.
 */
export function selectCases(
  matrix: readonly MatrixCase[],
  patterns: readonly string[] | undefined,
): MatrixCase[] {
  if (!patterns || patterns.length === 0) return [...matrix];
  const matches = (c: MatrixCase, p: string) =>
    c.id === p || c.scenario.id === p || (p.endsWith('::') && c.id.startsWith(p));
  for (const p of patterns) {
    if (!matrix.some((c) => matches(c, p))) throw new Error(`--cases: "${p}" names no case of this matrix`);
  }
  return matrix.filter((c) => c.id === SANITY || patterns.some((p) => matches(c, p)));
}
