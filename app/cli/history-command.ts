import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readHistory, renderHistoryHtml, renderHistoryMarkdown } from '../../reports/history.ts';
import { printable } from '../../reports/printable.ts';
import { RESULTS_FILE } from '../../reports/results-log.ts';
import { DEFAULT_PROFILE } from '../../reports/write-run-reports.ts';

export interface HistoryOptions {
  readonly last?: string;
  readonly profile?: string;
  readonly html?: string;
}

/** A run folder as given, or the run folders directly inside a folder of runs (reports/out). */
function runFolders(dir: string): string[] {
  if (existsSync(join(dir, RESULTS_FILE)) || !existsSync(dir)) return [dir];
  const inside = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, RESULTS_FILE)))
    .map((e) => join(dir, e.name));
  return inside.length > 0 ? inside : [dir];
}

/**
 * `trustlab history <runs...>`: per device, how the verdict counts and trust-model answers
 * changed over its last N runs. Exit 0; 2 when no run could be read or an option is wrong.
 */
export function historyCommand(runs: readonly string[], options: HistoryOptions): number {
  const last = options.last === undefined ? 10 : Number(options.last);
  if (!Number.isInteger(last) || last < 1) {
    console.error(`trustlab history: --last must be a whole number of runs, got "${options.last}"`);
    return 2;
  }
  const history = readHistory(
    runs.flatMap((r) => runFolders(resolve(r))),
    options.profile ?? DEFAULT_PROFILE,
    last,
  );
  for (const u of history.unreadable) console.error(`trustlab history: ${u.dir}: ${u.why} (left out)`);
  if (history.devices.length === 0) {
    console.error('trustlab history: no run could be read');
    return 2;
  }
  process.stdout.write(renderHistoryMarkdown(history));
  if (options.html) {
    writeFileSync(resolve(options.html), printable(renderHistoryHtml(history)));
    console.error(`history page: ${resolve(options.html)}`);
  }
  return 0;
}
