import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendRecord, readRecords, repairResults } from './results-log.ts';
import { fakeRecord } from './testing/fake-record.ts';

describe('results.jsonl stays valid JSON Lines across kills', () => {
  it('a resume takes torn lines out, keeps the original beside it, and every line parses after', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'trustlab-torn-')), 'results.jsonl');
    appendRecord(file, fakeRecord('a::one'));
    // A kill mid-write, then a later session's record glued on by appendRecord's newline guard.
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"case":"a::tw`, { flag: 'w' });
    appendRecord(file, fakeRecord('a::two'));
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"case":"a::thr`, { flag: 'w' });
    const original = readFileSync(file, 'utf8');

    const repair = repairResults(file);
    expect(repair.removedLines).toEqual([2, 4]);
    expect(repair.copy).not.toBeNull();
    expect(readFileSync(repair.copy ?? '', 'utf8')).toBe(original);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.at(-1)).toBe(''); // ends with a newline
    for (const line of lines.filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
    expect(readRecords(file).map((r) => r.case)).toEqual(['a::one', 'a::two']);
    // A clean file is left alone.
    expect(repairResults(file)).toEqual({ removedLines: [], copy: null });
  });
});
