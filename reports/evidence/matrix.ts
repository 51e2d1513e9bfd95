import type { CaseRecord } from '../record.ts';

/**
 * The scenarios × settings matrix. A record names its scenario in `scenario` when the suite runs a
 * scenario under several settings (issue 7); until then the case id is the scenario.
 * Certificate parameters (keyType) belong to the scenario, not to the device settings.
 */
const NOT_SETTINGS = new Set(['keyType']);

export const scenarioOf = (r: CaseRecord) =>
  typeof (r as { scenario?: unknown }).scenario === 'string'
    ? (r as unknown as { scenario: string }).scenario
    : r.case;

export function settingsLabel(r: CaseRecord): string {
  return (
    Object.entries(r.params)
      .filter(([k]) => !NOT_SETTINGS.has(k))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'default'
  );
}

export interface VerdictMatrix {
  readonly rows: readonly string[];
  readonly columns: readonly string[];
  /** `${row}\u0000${column}` → the record in that cell. */
  readonly cells: ReadonlyMap<string, CaseRecord>;
}

export const cellKey = (row: string, column: string) => `${row}\u0000${column}`;

export function verdictMatrix(records: readonly CaseRecord[]): VerdictMatrix {
  const rows: string[] = [];
  const columns: string[] = [];
  const cells = new Map<string, CaseRecord>();
  for (const r of records) {
    const row = scenarioOf(r);
    const column = settingsLabel(r);
    if (!rows.includes(row)) rows.push(row);
    if (!columns.includes(column)) columns.push(column);
    cells.set(cellKey(row, column), r);
  }
  return { rows, columns, cells };
}

/** The profile the matrix is coloured by: the first the records name (rfc5280 in the catalogue). */
export const primaryProfile = (records: readonly CaseRecord[]) =>
  Object.keys(records[0]?.verdicts ?? {})[0] ?? 'rfc5280';

export const caseAnchor = (caseId: string) => `case-${caseId.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
