import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/trustlab.js', import.meta.url));

describe('trustlab run --json progress', () => {
  it('prints only JSON lines, counting the cases that run (not tests skipped when collected)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'trustlab-progress-')), 'run');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        BIN,
        'run',
        '--cases',
        'anchors::right-ca,anchors::wrong-ca',
        '--out',
        out,
        '--no-allure-report',
        '--json',
      ],
      { env: { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' }, timeout: 120_000 },
    );
    const events = stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            event: string;
            case?: string;
            n?: number;
            total?: number;
            etaMs?: number | null;
          },
      );
    const ends = events.filter((e) => e.event === 'case-end');
    expect(ends.map((e) => e.case)).toEqual(['anchors::right-ca', 'anchors::wrong-ca']);
    expect(ends.map((e) => [e.n, e.total])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(ends.every((e) => e.etaMs === null || (e.etaMs ?? 0) >= 0)).toBe(true);
  }, 150_000);
});
