import { Command, Option } from 'commander';
import { DEFAULT_FAMILY, FAMILY_NAMES } from '../../harness/families.ts';
import { PERSONALITIES } from '../../harness/virtual-modem/personality.ts';
import { TLS_ENGINE_IDS } from '../../harness/virtual-modem/tls/engine.ts';
import { baselineUpdateCommand } from './baseline-command.ts';
import { cardCommand } from './card-command.ts';
import { compareCommand } from './compare-command.ts';
import { diffCommand } from './diff-command.ts';
import { historyCommand } from './history-command.ts';
import { registerLabCommand } from './lab-command.ts';
import { registerLimboCommand } from './limbo-command.ts';
import { mergeCommand } from './merge-command.ts';
import { restoreCommand } from './restore-command.ts';
import { runCommand } from './run-command.ts';
import { registerSimCommand } from './sim-command.ts';

const program = new Command()
  .name('trustlab')
  .description('Documents how cellular modems validate TLS servers, with evidence from both ends.')
  // A subcommand's options stay its own (`limbo export --out FILE` is not `limbo --out DIR`).
  .enablePositionalOptions();

program
  .command('run')
  .description('run the conformance suite on a device (the built-in virtual modem when --device is absent)')
  .option(
    '--device <address>',
    'serial path (/dev/ttyUSB2, /dev/serial/by-id/...) or tcp://host:port (ser2net)',
  )
  .addOption(
    new Option('--driver <family>', 'AT dialect of the device').choices(FAMILY_NAMES).default(DEFAULT_FAMILY),
  )
  .addOption(
    new Option(
      '--personality <name>',
      "trust personality of the virtual modem (default: the family's own)",
    ).choices(Object.keys(PERSONALITIES)),
  )
  .addOption(
    new Option(
      '--engine <engine>',
      'virtual modem: the TLS stack its handshakes run on (default: auto)',
    ).choices([...TLS_ENGINE_IDS]),
  )
  .option('--out <dir>', 'output folder (default reports/out/<run-id>)')
  .option('--dial-host <host>', 'host the device dials to reach the broker', '127.0.0.1')
  .option('--listen-host <host>', 'address the broker listens on', '127.0.0.1')
  .option('--resume <dir>', 'complete an interrupted run in <dir> with its recorded settings')
  .option('--shard <i/n>', 'run only slice i of n of the catalogue (stable; merge with trustlab merge)')
  .option('--settle <ms>', 'wait before each case (lets a real modem release its sockets)')
  .option('--json', 'progress and result as JSON lines on stdout, no human text')
  .option('--no-allure-report', 'skip generating the Allure HTML report')
  .option(
    '--full',
    'run the full matrix (every scenario under every setting combination) instead of the default',
  )
  .option(
    '--cases <list>',
    'only these cases: comma-separated case ids or globs (names::*, anchors::wrong-ca*)',
  )
  .option('--dial-name <name>', 'DNS name (3+ labels) the device resolves to the lab, for hostname cases')
  .option('--public-probe', 'real modems only: a wrong CA uploaded against well-known public TLS brokers')
  .option('--attempts <n>', 'tries for a case that fails before TLS (PDP, DNS, TCP), default 3')
  .option(
    '--baud <rate>',
    "the AT line's speed (serial port, or the far side of ser2net); waits allow for it (default 115200)",
  )
  .option(
    '--from-scratch',
    'read and set every setting for each case and restore it at the case end (default: keep settings between cases, send only what changed, restore once at the end)',
  )
  .option(
    '--file-prefix <prefix>',
    'file-store families: file and certificate names the harness may create start with this (default trustlab_)',
  )
  .option('--ssl-context <n>', 'families with SSL contexts: the one the harness may use (default 1)')
  .option('--mqtt-client <n>', 'families with MQTT client indexes: the one the harness may use (default 1)')
  .option('--sec-tags <first+count>', 'nRF91: the sec_tag range the harness may use (default 1414679552+16)')
  .option(
    '--profile <name>',
    'profile Allure, JUnit and --fail-on judge by: rfc5280 (default), webpki, mbedtls-2.28',
  )
  .option(
    '--baseline <dir>',
    "findings recorded in this baseline (or run) folder are known; 'stored' = baselines/<model>/<firmware>, 'none'",
  )
  .option('--fail-on <when>', 'exit 1 on: new-findings, findings, never (default)')
  .option('--allure-history <path>', 'Allure history file or folder kept between runs (trends across nights)')
  .action(async (options) => {
    process.exitCode = await runCommand(options);
  });

program
  .command('compare <runs...>')
  .description(
    'trust models of several runs side by side; the questions where they differ and why (exit 1 if any)',
  )
  .option('--markdown <file>', 'also write the Markdown to <file>')
  .option('--json', 'print the comparison as JSON instead of Markdown')
  .action((runs: string[], options) => {
    process.exitCode = compareCommand(runs, options);
  });

program
  .command('diff <baseline> <run>')
  .description('behaviour changes between two runs (or a baseline and a run); exit 1 when anything changed')
  .option('--markdown <file>', 'also write the Markdown (for a merge request) to <file>')
  .option(
    '--html <file>',
    'also write the diff as one page: changed trust-model answers, then cases side by side',
  )
  .option('--json', 'print the diff as JSON instead of Markdown')
  .action((baseline: string, run: string, options) => {
    process.exitCode = diffCommand(baseline, run, options);
  });

program
  .command('history <runs...>')
  .description(
    'per device, verdict counts and trust-model answers over its last runs (a folder of runs is expanded)',
  )
  .option('--last <n>', 'runs per device, newest kept (default 10)')
  .option('--profile <name>', 'profile the verdicts are counted under (default rfc5280)')
  .option('--html <file>', 'also write the history as one page')
  .action((runs: string[], options) => {
    process.exitCode = historyCommand(runs, options);
  });

program
  .command('card <run>')
  .description("the run's product-spec card as one page: card.html and card.pdf (Chromium's print)")
  .action(async (run: string) => {
    process.exitCode = await cardCommand(run);
  });

program
  .command('restore')
  .description(
    "put back what an interrupted run changed on a device, from its restore journal (the lab's state folder, or --journal)",
  )
  .requiredOption('--device <address>', 'serial path or tcp://host:port of the device')
  .addOption(
    new Option('--driver <family>', 'AT dialect of the device').choices(FAMILY_NAMES).default(DEFAULT_FAMILY),
  )
  .option(
    '--journal <file>',
    "a journal file to replay instead of the device's own (e.g. <run>/restore-journal.jsonl)",
  )
  .option('--baud <rate>', "the AT line's speed (default 115200)")
  .action(async (options) => {
    process.exitCode = await restoreCommand(options);
  });

program
  .command('merge <runs...>')
  .description('merge shard runs of one model and firmware into one run folder and report')
  .requiredOption('--out <dir>', 'folder for the merged run')
  .option('--no-allure-report', 'skip generating the Allure HTML report')
  .option(
    '--profile <name>',
    'profile Allure, JUnit and --fail-on judge by: rfc5280 (default), webpki, mbedtls-2.28',
  )
  .option('--baseline <dir>', "known findings: a baseline or run folder, 'stored' (default), or 'none'")
  .option('--fail-on <when>', 'exit 1 on: new-findings, findings, never (default)')
  .option('--allure-history <path>', 'Allure history file or folder kept between runs')
  .action(async (runs: string[], options) => {
    process.exitCode = await mergeCommand(runs, options);
  });

program
  .command('baseline')
  .description('baselines stored per model and firmware under baselines/')
  .command('update <run>')
  .description("make a run the baseline of its device's model and firmware")
  .option('--dir <dir>', 'baselines folder (default: the repository baselines/)')
  .action((run: string, options) => {
    process.exitCode = baselineUpdateCommand(run, options);
  });

registerSimCommand(program);
registerLabCommand(program);
registerLimboCommand(program);

await program.parseAsync();
