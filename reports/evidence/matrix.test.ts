import { describe, expect, it } from 'vitest';
import type { CaseRecord } from '../record.ts';
import { cellKey, runDefaults, variationLabel, verdictMatrix } from './matrix.ts';

const DEFAULTS = { sni: 1, dial: 'name', ignorelocaltime: 0, seclevel: 2, dialHost: '127.0.0.1' };

function record(id: string, scenario: string, params: Record<string, string | number> = {}): CaseRecord {
  return {
    case: id,
    scenario,
    params: { ...DEFAULTS, dialledHost: `${id}.test`, ...params },
    outcome: 'accepted',
    verdicts: { rfc5280: 'conformant' },
  } as unknown as CaseRecord;
}

const RUN = [
  record('anchors::right-ca', 'anchors::right-ca'),
  record('anchors::wrong-ca', 'anchors::wrong-ca'),
  record('anchors::right-ca@sni0', 'anchors::right-ca', { sni: 0 }),
  record('hostname::mismatch', 'hostname::mismatch'),
  record('hostname::mismatch@sni0', 'hostname::mismatch', { sni: 0 }),
  record('hostname::mismatch@ip', 'hostname::mismatch', { dial: 'ip' }),
  record('clock::expired@ilt', 'clock::expired', { ignorelocaltime: 1, sni: 0 }),
];

describe('the verdict matrix a person reads', () => {
  it('takes the run defaults from the bulk of the run and names only what a case varies', () => {
    const defaults = runDefaults(RUN);
    expect(Object.fromEntries(defaults)).toEqual({
      sni: '1',
      dial: 'name',
      ignorelocaltime: '0',
      seclevel: '2',
    });
    expect(variationLabel(RUN[6] as CaseRecord, defaults)).toBe('sni=0 ignorelocaltime=1');
  });

  it('has one column per distinct variation, default first, and a cell for every case', () => {
    const m = verdictMatrix(RUN);
    expect(m.columns).toEqual(['default', 'sni=0', 'dial=ip', 'sni=0 ignorelocaltime=1']);
    expect(m.columnSettings.get('dial=ip')).toBe('sni=1 dial=ip ignorelocaltime=0 seclevel=2');
    expect(m.families.map((g) => g.family)).toEqual(['anchors', 'hostname', 'clock']);
    const placed = m.rows.flatMap((row) =>
      m.columns.map((col) => m.cells.get(cellKey(row, col))?.case ?? []),
    );
    expect(placed.flat().sort()).toEqual(RUN.map((r) => r.case).sort());
  });

  it('never hides a record that lands on a taken cell: it gets a row of its own', () => {
    const twice = [...RUN, record('anchors::right-ca#2', 'anchors::right-ca')];
    const m = verdictMatrix(twice);
    expect(m.cells.get(cellKey('anchors::right-ca#2', 'default'))?.case).toBe('anchors::right-ca#2');
    expect(m.cells.get(cellKey('anchors::right-ca', 'default'))?.case).toBe('anchors::right-ca');
  });
});
