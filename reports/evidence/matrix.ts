import type { CaseRecord } from '../record.ts';

/**
 * The scenarios × settings matrix. A record names its scenario in `scenario` when the suite runs a
 * scenario under several settings; otherwise the case id is the scenario. Certificate parameters
 * (keyType) belong to the scenario, and the hosts are the lab's and the case's, not device settings.
 */
const NOT_SETTINGS = new Set(['keyType', 'dialHost', 'dialledHost']);

export const scenarioOf = (r: CaseRecord) =>
  typeof (r as { scenario?: unknown }).scenario === 'string'
    ? (r as unknown as { scenario: string }).scenario
    : r.case;

/** The family a scenario belongs to: its id up to `::` (`anchors::wrong-ca` → `anchors`). */
export const familyOf = (scenario: string) => scenario.split('::')[0] ?? scenario;

const settingsOf = (r: CaseRecord) => Object.entries(r.params).filter(([k]) => !NOT_SETTINGS.has(k));

/** Every setting of a record, `key=value`, for a column's legend. */
export function settingsLabel(r: CaseRecord): string {
  return (
    settingsOf(r)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'default'
  );
}

/**
 * The run's default settings: per setting, the value most of its records ran with (the first seen
 * on a tie), so a column names only how a case differs from the bulk of the run.
 */
export function runDefaults(records: readonly CaseRecord[]): ReadonlyMap<string, string> {
  const counts = new Map<string, Map<string, number>>();
  for (const r of records)
    for (const [k, v] of settingsOf(r)) {
      const byValue = counts.get(k) ?? new Map<string, number>();
      byValue.set(String(v), (byValue.get(String(v)) ?? 0) + 1);
      counts.set(k, byValue);
    }
  const defaults = new Map<string, string>();
  for (const [k, byValue] of counts) {
    let best: [string, number] = ['', -1];
    for (const entry of byValue) if (entry[1] > best[1]) best = entry;
    defaults.set(k, best[0]);
  }
  return defaults;
}

/** How a record's settings differ from the run's defaults (`sni=0 dial=ip`), or `default`. */
export function variationLabel(r: CaseRecord, defaults: ReadonlyMap<string, string>): string {
  return (
    settingsOf(r)
      .filter(([k, v]) => defaults.get(k) !== String(v))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'default'
  );
}

export interface VerdictMatrix {
  /** Scenario ids grouped by family, in the order the run met them. */
  readonly families: readonly { readonly family: string; readonly rows: readonly string[] }[];
  readonly rows: readonly string[];
  /** One column per distinct variation from the run's defaults, `default` first. */
  readonly columns: readonly string[];
  /** A column's full settings (every setting, not only the varied ones). */
  readonly columnSettings: ReadonlyMap<string, string>;
  /** `${row}\u0000${column}` → the record in that cell. */
  readonly cells: ReadonlyMap<string, CaseRecord>;
}

export const cellKey = (row: string, column: string) => `${row}\u0000${column}`;

export function verdictMatrix(records: readonly CaseRecord[]): VerdictMatrix {
  const defaults = runDefaults(records);
  const families = new Map<string, string[]>();
  const columns: string[] = [];
  const columnSettings = new Map<string, string>();
  const cells = new Map<string, CaseRecord>();
  for (const r of records) {
    const column = variationLabel(r, defaults);
    // Two records of one scenario under the same variation: the second gets its own row, never hidden.
    const row = cells.has(cellKey(scenarioOf(r), column)) ? r.case : scenarioOf(r);
    const rows = families.get(familyOf(row)) ?? [];
    if (!rows.includes(row)) rows.push(row);
    families.set(familyOf(row), rows);
    if (!columns.includes(column)) columns.push(column);
    if (!columnSettings.has(column)) columnSettings.set(column, settingsLabel(r));
    cells.set(cellKey(row, column), r);
  }
  const ordered = columns.includes('default')
    ? ['default', ...columns.filter((c) => c !== 'default')]
    : columns;
  const grouped = [...families].map(([family, rows]) => ({ family, rows }));
  return {
    families: grouped,
    rows: grouped.flatMap((g) => g.rows),
    columns: ordered,
    columnSettings,
    cells,
  };
}

/** The profile the matrix is coloured by: the first the records name (rfc5280 in the catalogue). */
export const primaryProfile = (records: readonly CaseRecord[]) =>
  Object.keys(records[0]?.verdicts ?? {})[0] ?? 'rfc5280';

export const caseAnchor = (caseId: string) => `case-${caseId.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
