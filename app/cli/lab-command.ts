import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { jsonProgress } from '../../reports/progress.ts';
import { FAIL_ON, type FailOn } from '../../reports/quality-gate.ts';
import { DEFAULT_PROFILE } from '../../reports/write-run-reports.ts';
import { PROFILE_NAMES } from '../../suites/profiles.ts';
import { InventoryError, loadInventory } from '../lab/inventory.ts';
import { labGates } from '../lab/lab-gate.ts';
import { labHumanProgress } from '../lab/lab-progress.ts';
import { LabUsageError, runLab } from '../lab/lab-run.ts';
import { renderLabSummaryLines } from '../lab/lab-summary.ts';
import { DEFAULT_BASELINES } from './baseline-command.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface LabCommandOptions {
  readonly inventory: string;
  readonly out?: string;
  /** Comma-separated device names. */
  readonly only?: string;
  readonly json?: boolean;
  readonly parallel?: string;
  readonly allureReport?: boolean;
  readonly profile?: string;
  readonly failOn?: string;
  readonly baselines?: string;
}

const labId = () => new Date().toISOString().replace(/[:.]/g, '-');

/**
 * `trustlab lab`: every device of an inventory in parallel, one `trustlab run` each. Exit 0 when
 * every device completed its run, 1 when one was excluded or left incomplete (the summary says
 * why) or a device's quality gate (`--fail-on`) failed, 2 for a usage error (inventory, --only).
 */
export async function labCommand(options: LabCommandOptions): Promise<number> {
  const say = options.json ? jsonProgress() : null;
  const fail = (message: string) => {
    if (say) say({ event: 'error', message });
    else console.error(`trustlab lab: ${message}`);
    return 2;
  };
  try {
    const inventory = loadInventory(resolve(options.inventory));
    const profile = options.profile ?? DEFAULT_PROFILE;
    if (!(PROFILE_NAMES as readonly string[]).includes(profile)) {
      return fail(`--profile ${profile}: expected one of ${PROFILE_NAMES.join(', ')}`);
    }
    const failOn = (options.failOn ?? 'never') as FailOn;
    if (!FAIL_ON.includes(failOn))
      return fail(`--fail-on ${options.failOn}: expected one of ${FAIL_ON.join(', ')}`);
    const parallel = options.parallel === undefined ? undefined : Number(options.parallel);
    if (parallel !== undefined && !(Number.isInteger(parallel) && parallel >= 1)) {
      return fail('--parallel expects a whole number of devices, 1 or more');
    }
    const only = options.only
      ?.split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    const summary = await runLab({
      inventory,
      outDir: resolve(options.out ?? join(PROJECT_ROOT, 'reports', 'out', `lab-${labId()}`)),
      ...(only ? { only } : {}),
      ...(parallel ? { parallel } : {}),
      allureReport: options.allureReport === true,
      profile,
      emit: say ?? labHumanProgress(),
    });
    const gates = labGates(summary.devices, {
      failOn,
      profile,
      baselinesRoot: resolve(options.baselines ?? DEFAULT_BASELINES),
    });
    if (say)
      for (const g of gates) say({ event: 'device-gate', device: g.device, baseline: g.baseline, ...g.gate });
    else {
      console.log(renderLabSummaryLines(summary).join('\n'));
      for (const g of gates) console.log(`  ${g.device}: ${g.gate?.line ?? 'no case recorded'}`);
    }
    const gateFailed = gates.some((g) => g.gate?.failed);
    return summary.devices.every((d) => d.status === 'complete') && !gateFailed ? 0 : 1;
  } catch (error) {
    if (error instanceof InventoryError || error instanceof LabUsageError) return fail(error.message);
    throw error;
  }
}

/** Registers `trustlab lab` on the CLI. */
export function registerLabCommand(program: Command): void {
  program
    .command('lab')
    .description(
      'run the suite on every device of an inventory in parallel: health check, lock, power-cycle and resume',
    )
    .requiredOption('--inventory <file>', 'device inventory (YAML; see examples/lab.yaml)')
    .option(
      '--out <dir>',
      'lab output folder (default reports/out/lab-<lab-id>): one folder per device, lab.md, lab.json',
    )
    .option('--only <names>', 'only these devices (comma-separated inventory names)')
    .option('--parallel <n>', 'devices run at the same time (default: all)')
    .option('--json', 'JSON lines on stdout (every event carries the device name), no human text')
    .option('--allure-report', "generate each device's Allure HTML report (off by default: slow)")
    .option(
      '--profile <name>',
      'profile Allure, JUnit and --fail-on judge by: rfc5280 (default), webpki, mbedtls-2.28',
    )
    .option('--fail-on <when>', 'exit 1 when a device has: new-findings, findings, never (default)')
    .option(
      '--baselines <dir>',
      'stored baselines, one per model/firmware (default: the repository baselines/)',
    )
    .action(async (options: LabCommandOptions) => {
      process.exitCode = await labCommand(options);
    });
}
