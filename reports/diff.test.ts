import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { updateBaseline } from './baseline.ts';
import { type BehaviourSet, behaviourOf, loadBehaviour } from './behaviour.ts';
import { diffBehaviour, hasChanges, renderDiffMarkdown } from './diff.ts';
import type { CaseRecord } from './record.ts';
import { appendRecord } from './results-log.ts';
import { writeRunManifest } from './run-manifest.ts';
import { selectShard } from './shard.ts';
import { fakeRecord } from './testing/fake-record.ts';

const record = (id: string, over: Partial<CaseRecord> = {}, port = 40000): CaseRecord =>
  fakeRecord(id, {
    params: { seclevel: 1, sni: 1 },
    outcome: 'rejected',
    reason: 'refused',
    codes: [`+QIOPEN: 1,"127.0.0.1",${port}`, '+QMTOPEN: 1,-1'],
    startedAt: new Date(port).toISOString(),
    endedAt: new Date(port).toISOString(),
    ...over,
  });

const set = (records: CaseRecord[]): BehaviourSet => ({
  source: 'x',
  model: 'EC200U',
  firmware: 'FW',
  catalogueRevision: 'r1',
  cases: new Map(records.map((r) => [r.case, behaviourOf(r)])),
  trustModel: null,
});

describe('trustlab diff', () => {
  it('ignores times, ports and nonces but names every behaviour change', () => {
    const a = set([record('hostname::wrong', {}, 40001), record('anchors::wrong-ca')]);
    expect(
      hasChanges(diffBehaviour(a, set([record('hostname::wrong', {}, 51234), record('anchors::wrong-ca')]))),
    ).toBe(false);

    const lenient = record('hostname::wrong', {
      outcome: 'accepted',
      verdicts: { rfc5280: 'lenient' },
      codes: ['+QMTOPEN: 1,0'],
      server: { ...record('x').server, sni: '127.0.0.1' },
    });
    const d = diffBehaviour(a, set([lenient, record('validity::expired')]));
    expect(d.changed.map((c) => c.case)).toEqual(['hostname::wrong']);
    expect(d.changed[0]?.fields.map((f) => f.field)).toEqual(
      expect.arrayContaining(['outcome', 'verdicts.rfc5280', 'codes', 'server.sni']),
    );
    expect(d.added).toEqual(['validity::expired']);
    expect(d.removed).toEqual(['anchors::wrong-ca']);
    const md = renderDiffMarkdown(d);
    expect(md).toContain('| hostname::wrong | verdicts.rfc5280 | conformant | lenient |');
    expect(md).toContain('Only in the baseline: `anchors::wrong-ca`');
  });

  it('compares trust-model answers by question id: a reworded question changes nothing', () => {
    const id = 'names.sni-on.checked' as const;
    const before = {
      ...set([]),
      trustModel: [
        { id, question: 'checks hostname?', answer: 'yes' as const, cases: [] },
        { id: 'sni.sent' as const, question: 'Sends SNI?', answer: 'yes' as const, cases: [] },
      ],
    };
    const after = {
      ...set([]),
      trustModel: [
        { id, question: 'Checks the hostname with SNI on?', answer: 'no' as const, cases: [] },
        { id: 'sni.sent' as const, question: 'Sends SNI (sni 1)?', answer: 'yes' as const, cases: [] },
      ],
    };
    expect(diffBehaviour(before, after).trustModel).toEqual([
      { id, field: 'Checks the hostname with SNI on?', before: 'yes', after: 'no' },
    ]);
  });

  it('stores a baseline per model and firmware that diffs equal to its run', () => {
    const run = mkdtempSync(join(tmpdir(), 'trustlab-baseline-'));
    for (const r of [record('b::one'), record('a::two')]) appendRecord(join(run, 'results.jsonl'), r);
    writeRunManifest(run, {
      schema: 1,
      identity: { manufacturer: 'Q', model: 'EC200U', firmware: 'FW/A 1', imei: null },
    });
    const { dir } = updateBaseline(run, join(run, 'baselines'));
    expect(dir).toBe(join(run, 'baselines', 'EC200U', 'FW_A_1'));
    expect(readFileSync(join(dir, 'behaviour.jsonl'), 'utf8')).not.toMatch(/startedAt|40000/);
    expect(hasChanges(diffBehaviour(loadBehaviour(dir), loadBehaviour(run)))).toBe(false);
  });
});

describe('--shard', () => {
  it('splits stably, covers every case once, and keeps the sanity case in every shard', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `family${i % 7}::case-${i}`);
    const shards = [1, 2, 3].map((index) =>
      selectShard(ids, (id) => id, { index, count: 3 }, new Set([ids[0] as string])),
    );
    for (const s of shards) expect(s).toContain(ids[0]);
    const rest = shards.flatMap((s) => s.filter((id) => id !== ids[0]));
    expect(rest.sort()).toEqual(ids.slice(1).sort());
    expect(Math.min(...shards.map((s) => s.length))).toBeGreaterThan(40);
    // Adding a case to the catalogue moves no other case to another shard.
    const grown = selectShard(['new::case', ...ids], (id) => id, { index: 2, count: 3 });
    expect(grown.filter((id) => id !== 'new::case')).toEqual(
      selectShard(ids, (id) => id, { index: 2, count: 3 }),
    );
  });
});
