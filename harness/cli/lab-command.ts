import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { jsonProgress } from '../../reports/progress.ts';
import { InventoryError, loadInventory } from '../lab/inventory.ts';
import { labHumanProgress } from '../lab/lab-progress.ts';
import { LabUsageError, runLab } from '../lab/lab-run.ts';
import { renderLabSummaryLines } from '../lab/lab-summary.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface LabCommandOptions {
  readonly inventory: string;
  readonly out?: string;
  /** Comma-separated device names. */
  readonly only?: string;
  readonly json?: boolean;
  readonly parallel?: string;
  readonly allureReport?: boolean;
}

const labId = () => new Date().toISOString().replace(/[:.]/g, '-');

/**
 * `trustlab lab`: every device of an inventory in parallel, one `trustlab run` each. Exit 0 when
 * every device completed its run, 1 when one was excluded or left incomplete (the summary says
 * why), 2 for a usage error (inventory, --only).
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
      emit: say ?? labHumanProgress(),
    });
    if (!say) console.log(renderLabSummaryLines(summary).join('\n'));
    return summary.devices.every((d) => d.status === 'complete') ? 0 : 1;
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
    .action(async (options: LabCommandOptions) => {
      process.exitCode = await labCommand(options);
    });
}
