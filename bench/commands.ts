/**
 * `npm run bench:commands`: how many AT commands a case really sends, counted from the transcripts
 * of real runs on the virtual Quectel modem (default matrix, then full matrix), and what that makes
 * the matrices cost on a real EC200U under the cost model of suites/estimate.ts.
 *
 *   default_mean / full_mean  AT commands per case: every command of every case transcript, plus
 *                             the run's own (identity, the end-of-run restore) spread over its cases
 *   essential_mean            of those, the ones the case cannot do without (open, connect,
 *                             publish, disconnect, and an upload when the anchors change)
 *   ec200u_*_min              suites/estimate.ts with the measured mean in place of its figure
 *
 * Targets: default_mean ≤ 12, ec200u_full_min ≤ 60. TRUSTLAB_BENCH_DEFAULT_ONLY=1 skips the full
 * matrix (about 3 minutes) and prints full figures as n/a.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EC200U_PESSIMISTIC, estimateSeconds } from '../suites/estimate.ts';
import { defaultMatrix, fullMatrix } from '../suites/matrix.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** What a Quectel case cannot do without: open, connect, publish, disconnect, upload. */
const ESSENTIAL =
  /^AT\+(QMTOPEN|QMTCONN|QMTPUB|QMTPUBEX|QMTDISC|QFUPL|QSSLOPEN|QSSLSEND|QSSLRECV|QSSLCLOSE)=/;
const COMMAND = /^\s*\d+ ms >> (AT\S*)/;

interface Count {
  readonly cases: number;
  readonly commands: number;
  readonly essential: number;
}

function countTranscript(text: string): { commands: number; essential: number } {
  let commands = 0;
  let essential = 0;
  for (const line of text.split('\n')) {
    const command = COMMAND.exec(line)?.[1];
    if (!command) continue;
    commands += 1;
    if (ESSENTIAL.test(command)) essential += 1;
  }
  return { commands, essential };
}

/** Runs `trustlab run` on the virtual Quectel modem and counts the commands its transcripts hold. */
function measure(full: boolean): Count {
  const out = mkdtempSync(join(tmpdir(), 'trustlab-bench-commands-'));
  try {
    const args = ['tsx', 'app/cli/main.ts', 'run', '--out', out, '--json', '--no-allure-report'];
    const run = spawnSync('npx', full ? [...args, '--full'] : args, {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    const folder = join(out, 'transcripts');
    if (!existsSync(folder))
      throw new Error(`the run wrote no transcripts (exit ${run.status}): ${run.stderr}`);
    const files = readdirSync(folder);
    let cases = 0;
    let commands = 0;
    let essential = 0;
    for (const file of files) {
      const counted = countTranscript(readFileSync(join(folder, file), 'utf8'));
      // Run-level transcripts (identity, end-of-run restore) add commands but no case.
      if (!file.startsWith('run-')) cases += 1;
      commands += counted.commands;
      essential += counted.essential;
    }
    return { cases, commands, essential };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const mean = (count: Count, of: 'commands' | 'essential') => count[of] / Math.max(1, count.cases);
const minutes = (cases: Parameters<typeof estimateSeconds>[0], perCase: number) =>
  (estimateSeconds(cases, { ...EC200U_PESSIMISTIC, commandsPerCase: perCase }) / 60).toFixed(1);

const defaults = measure(false);
const full = process.env.TRUSTLAB_BENCH_DEFAULT_ONLY === '1' ? null : measure(true);
const fullMean = full ? mean(full, 'commands') : null;
console.log(
  [
    'commands:',
    `default_mean=${mean(defaults, 'commands').toFixed(1)}`,
    `full_mean=${fullMean === null ? 'n/a' : fullMean.toFixed(1)}`,
    `essential_mean=${mean(full ?? defaults, 'essential').toFixed(1)}`,
    `ec200u_default_min=${minutes(defaultMatrix(), mean(defaults, 'commands'))}`,
    `ec200u_full_min=${fullMean === null ? 'n/a' : minutes(fullMatrix(), fullMean)}`,
  ].join(' '),
);
