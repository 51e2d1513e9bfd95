import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allureHistoryFile, generateAllureReport } from './allure-report.ts';
import { allureCategories, writeAllureResults } from './allure-results.ts';
import { fakeRecord } from './testing/fake-record.ts';

const environment = {
  device: 'virtual:strict',
  model: 'EC200U',
  firmware: 'FW-A',
  imei: null,
  harnessVersion: '0.1.0',
  harnessCommit: null,
  catalogueRevision: null,
  profile: 'rfc5280',
  baseline: null,
};

describe('Allure history between nightly runs', () => {
  it('a history folder given to two runs holds both runs, so trends show across nights', async () => {
    const history = join(mkdtempSync(join(tmpdir(), 'trustlab-history-')), 'allure-history');
    for (const night of ['n1', 'n2']) {
      const outDir = mkdtempSync(join(tmpdir(), `trustlab-${night}-`));
      const records = [
        fakeRecord('anchors::right-ca'),
        fakeRecord('names::san-mismatch', {
          verdicts: { rfc5280: night === 'n1' ? 'conformant' : 'lenient' },
        }),
      ];
      const results = writeAllureResults({
        outDir,
        records,
        environment,
        profile: 'rfc5280',
        trustModel: null,
        harnessFaults: new Map(),
      });
      await generateAllureReport(results, join(outDir, 'report'), {
        categories: allureCategories(),
        history,
      });
      expect(existsSync(join(outDir, 'report', 'index.html'))).toBe(true);
    }
    const file = allureHistoryFile(history);
    const entries = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(entries).toHaveLength(2);
    // The second night's entry remembers the finding as failed.
    expect(entries[1]).toContain('"failed"');
  }, 120_000);
});
