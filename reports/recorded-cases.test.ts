import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendRecord, RESULTS_FILE } from './results-log.ts';
import { recordedCases } from './resume.ts';
import { fakeRecord } from './testing/fake-record.ts';

describe('recordedCases (what a resume replays instead of running)', () => {
  it('keeps verdicts about a healthy device and re-runs what never reached one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-recorded-'));
    const file = join(dir, RESULTS_FILE);
    const broken = fakeRecord('anchors::wrong-ca', { outcome: 'rejected' });
    appendRecord(file, fakeRecord('anchors::right-ca'));
    appendRecord(file, { ...broken, device: { ...broken.device, healthy: false } });
    appendRecord(file, fakeRecord('names::san-mismatch', { outcome: 'inconclusive' }));
    appendRecord(file, fakeRecord('validity::leaf-expired', { outcome: 'blocked' }));
    appendRecord(file, fakeRecord('names::wildcard-one-label', { outcome: 'rejected' }));
    expect([...recordedCases(dir).keys()].sort()).toEqual(['anchors::right-ca', 'names::wildcard-one-label']);
  });

  it('takes the latest record of a case: a case re-run after a fault counts once it settled', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-recorded-'));
    const file = join(dir, RESULTS_FILE);
    appendRecord(file, fakeRecord('anchors::wrong-ca', { outcome: 'inconclusive' }));
    appendRecord(file, fakeRecord('anchors::wrong-ca', { outcome: 'rejected' }));
    expect(recordedCases(dir).get('anchors::wrong-ca')?.outcome).toBe('rejected');
  });
});
