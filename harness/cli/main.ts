import { Command, Option } from 'commander';
import { DRIVER_FAMILIES } from '../runner/device.ts';
import { PERSONALITIES } from '../virtual-modem/personality.ts';
import { runCommand } from './run-command.ts';

const program = new Command()
  .name('trustlab')
  .description('Documents how cellular modems validate TLS servers, with evidence from both ends.');

program
  .command('run')
  .description('run the conformance suite on a device (the built-in virtual modem when --device is absent)')
  .option(
    '--device <address>',
    'serial path (/dev/ttyUSB2, /dev/serial/by-id/...) or tcp://host:port (ser2net)',
  )
  .addOption(
    new Option('--driver <family>', 'AT dialect of the device').choices(DRIVER_FAMILIES).default('quectel'),
  )
  .addOption(
    new Option('--personality <name>', 'trust personality of the virtual modem')
      .choices(Object.keys(PERSONALITIES))
      .default('strict'),
  )
  .option('--out <dir>', 'output folder (default reports/out/<run-id>)')
  .option('--dial-host <host>', 'host the device dials to reach the broker', '127.0.0.1')
  .option('--listen-host <host>', 'address the broker listens on', '127.0.0.1')
  .option('--resume <dir>', 'complete an interrupted run in <dir> with its recorded settings')
  .option('--shard <i/n>', 'run only slice i of n of the catalogue (stable; merge with trustlab merge)')
  .option('--settle <ms>', 'wait before each case (lets a real modem release its sockets)')
  .option('--json', 'progress and result as JSON lines on stdout, no human text')
  .option('--no-allure-report', 'skip generating the Allure HTML report')
  .action(async (options) => {
    process.exitCode = await runCommand(options);
  });

await program.parseAsync();
