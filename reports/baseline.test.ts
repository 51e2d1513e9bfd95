import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { updateBaseline } from './baseline.ts';
import { appendRecord, RESULTS_FILE } from './results-log.ts';
import { fakeRecord } from './testing/fake-record.ts';

function runWithIdentity(identity: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'trustlab-baseline-'));
  appendRecord(join(dir, RESULTS_FILE), fakeRecord('anchors::right-ca'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ schema: 1, identity }));
  return dir;
}

describe('baseline update files a run only under an identity it can trust', () => {
  it('refuses a run whose identity stayed garbled, saying why, and writes nothing', () => {
    const run = runWithIdentity({
      manufacturer: 'unknown',
      model: 'unknown',
      firmware: 'unknown',
      imei: null,
      reliable: false,
      raw: 'ATI: \\x00\\xff\\nOK',
    });
    const root = mkdtempSync(join(tmpdir(), 'trustlab-baselines-'));
    expect(() => updateBaseline(run, root)).toThrow(/identity is unreliable .*answers: ATI: \\x00/);
    expect(existsSync(join(root, 'unknown'))).toBe(false);
    expect(existsSync(join(root, '_'))).toBe(false);
  });

  it('files a clean identity under its model and firmware', () => {
    const run = runWithIdentity({
      manufacturer: 'Quectel',
      model: 'EC200U',
      firmware: 'FW-A',
      imei: null,
      reliable: true,
    });
    const root = mkdtempSync(join(tmpdir(), 'trustlab-baselines-'));
    expect(updateBaseline(run, root).dir).toBe(join(root, 'EC200U', 'FW-A'));
  });
});
