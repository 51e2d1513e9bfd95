import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../certs/catalogue/index.ts';
import { EC200U_PESSIMISTIC, estimateSeconds } from './estimate.ts';
import { caseIdOf, defaultMatrix, expectationUnder, fullMatrix } from './matrix.ts';
import { PROFILE_NAMES } from './profiles.ts';
import { SCENARIO_SCHEMA, validateAgainst } from './scenario-schema.ts';
import { PROBES, SANITY, SCENARIOS } from './scenarios.ts';

const byId = new Map(SCENARIOS.map((s) => [s.id, s]));

describe('scenarios as data', () => {
  it('holds at least 60 distinct scenarios with unique ids', () => {
    expect(new Set(SCENARIOS.map((s) => s.id)).size).toBe(SCENARIOS.length);
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(60);
  });

  it('validates every scenario against the JSON Schema, which matches scenarios.schema.json', () => {
    for (const s of SCENARIOS) expect(validateAgainst(SCENARIO_SCHEMA, s), s.id).toEqual([]);
    const file = JSON.parse(readFileSync(new URL('./scenarios.schema.json', import.meta.url), 'utf8'));
    expect(file).toEqual(JSON.parse(JSON.stringify(SCENARIO_SCHEMA)));
  });

  it('the schema refuses what the model forbids', () => {
    const good = byId.get(SANITY);
    const bad = [
      { ...good, settings: { ...good?.settings, seclevel: 3 } },
      { ...good, expected: { rfc5280: { result: 'accept' } } },
      { ...good, extra: true },
      { ...good, requires: ['telepathy'] },
      { ...good, id: 'no-family' },
    ];
    for (const b of bad) expect(validateAgainst(SCENARIO_SCHEMA, b).length).toBeGreaterThan(0);
    expect(validateAgainst({ type: 'object', oneOf: [] }, {})).toEqual([
      '$: schema keyword(s) not supported: oneOf',
    ]);
  });

  it('names a catalogue entry for every scenario and a control twin for every defect', () => {
    const entries = new Set<string>(CATALOGUE.map((e) => e.id));
    for (const s of SCENARIOS) {
      expect(entries.has(s.certs.entry), s.id).toBe(true);
      if (s.kind === 'defect') {
        const twin = byId.get(s.twin ?? '');
        expect(twin?.kind, `${s.id} → ${s.twin}`).toBe('control');
      }
    }
  });

  it('says why wherever the profiles disagree', () => {
    for (const s of SCENARIOS) {
      const results = new Set(PROFILE_NAMES.map((p) => s.expected[p].result));
      if (results.size > 1)
        for (const p of PROFILE_NAMES) expect(s.expected[p].because, `${s.id} ${p}`).toBeTruthy();
    }
  });

  it('keeps the foundation pair meaningful: right CA accepted, wrong CA refused, by every profile', () => {
    for (const p of PROFILE_NAMES) {
      expect(byId.get('anchors::right-ca')?.expected[p].result).toBe('accept');
      expect(byId.get('anchors::wrong-ca')?.expected[p].result).toBe('reject');
    }
  });

  it('orders sanity first, then the probes, then the catalogue', () => {
    expect(SCENARIOS[0]?.id).toBe(SANITY);
    expect(SCENARIOS.slice(1, 1 + Object.keys(PROBES).length).map((s) => s.id)).toEqual(Object.keys(PROBES));
    expect(SCENARIOS.slice(1 + Object.keys(PROBES).length).every((s) => s.phase === 'catalogue')).toBe(true);
  });
});

describe('the matrix', () => {
  const d = defaultMatrix();
  const f = fullMatrix();

  it('runs every scenario once under its own settings, sanity and probes first', () => {
    expect(d.slice(0, 4).map((c) => c.id)).toEqual([SANITY, ...Object.keys(PROBES)]);
    // A ladder's other rungs are --full only; everything else is in the default matrix.
    for (const s of SCENARIOS)
      expect(
        d.some((c) => c.id === s.id),
        s.id,
      ).toBe(!s.fullOnly);
    for (const s of SCENARIOS)
      expect(
        f.some((c) => c.id === s.id),
        s.id,
      ).toBe(true);
    expect(new Set(d.map((c) => c.id)).size).toBe(d.length);
    for (const c of d)
      expect(validateAgainst(SCENARIO_SCHEMA.properties.settings, c.settings), c.id).toEqual([]);
  });

  it('keeps one representative of each size and key ladder in the default matrix, every rung in --full', () => {
    const ladders = new Set(SCENARIOS.flatMap((s) => (s.ladder ? [s.ladder.ladder] : [])));
    expect([...ladders].sort()).toEqual(
      ['anchor-count', 'handshake-fragment', 'leaf-bytes', 'leaf-key', 'served-chain-bytes'].sort(),
    );
    const inDefault = (ladder: string) =>
      d.filter((c) => c.scenario.ladder?.ladder === ladder && c.id === c.scenario.id).map((c) => c.id);
    expect(inDefault('served-chain-bytes')).toEqual(['sizes::served-chain-6k']);
    expect(inDefault('leaf-key')).toEqual(['signatures::rsa1024-leaf', 'keys::leaf-ed25519']);
    expect(inDefault('handshake-fragment')).toEqual(['tls::handshake-fragmented-512']);
    expect(
      f.filter((c) => c.scenario.ladder?.ladder === 'served-chain-bytes' && c.id === c.scenario.id),
    ).toHaveLength(6);
  });

  it('names varied settings in the case id and keeps the scenario', () => {
    const s = byId.get('anchors::wrong-ca');
    if (!s) throw new Error('missing');
    expect(caseIdOf(s, { ...s.settings, seclevel: 0 })).toBe('anchors::wrong-ca[seclevel=0]');
    expect(d.find((c) => c.id === 'anchors::wrong-ca[seclevel=0]')?.scenario.id).toBe('anchors::wrong-ca');
  });

  it('changes expectations only for documented knobs', () => {
    const wrong = byId.get('anchors::wrong-ca');
    const expired = byId.get('validity::leaf-expired');
    if (!wrong || !expired) throw new Error('missing');
    expect(expectationUnder(wrong, { ...wrong.settings, seclevel: 0 }).rfc5280.result).toBe('accept');
    expect(expectationUnder(expired, { ...expired.settings, ignorelocaltime: 1 }).webpki.result).toBe(
      'accept',
    );
    expect(expectationUnder(wrong, { ...wrong.settings, ignoremulticertchainverify: 1 }).rfc5280.result).toBe(
      'reject',
    );
  });

  it('the full matrix contains the default one and is much larger', () => {
    const ids = new Set(f.map((c) => c.id));
    for (const c of d) expect(ids.has(c.id)).toBe(true);
    expect(f.length).toBeGreaterThan(5 * d.length);
  });

  it('keeps the default matrix under an hour on a real EC200U (pessimistic cost model)', () => {
    expect(estimateSeconds(d, EC200U_PESSIMISTIC)).toBeLessThan(3600);
    expect(estimateSeconds(f, EC200U_PESSIMISTIC)).toBeGreaterThan(3600);
  });
});
