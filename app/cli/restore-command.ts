import { resolve } from 'node:path';
import { JournalError } from '../../harness/drivers/restore-journal.ts';
import { describeRecovery, RecoveryError } from '../../harness/runner/journal-recovery.ts';
import { restoreDevice } from '../../harness/runner/restore-device.ts';

export interface RestoreOptions {
  readonly device: string;
  readonly driver: string;
  readonly baud?: string;
  readonly journal?: string;
}

/**
 * `trustlab restore --device …`: puts back what an interrupted run (kill -9, power cut, host crash)
 * changed on a device, from its restore journal. Exit 0 when nothing is left to restore, 1 when a
 * change could not be put back (it stays in the journal for the next try), 2 when the device or
 * the journal cannot be used.
 */
export async function restoreCommand(options: RestoreOptions): Promise<number> {
  const baud = options.baud === undefined ? undefined : Number(options.baud);
  if (baud !== undefined && !(Number.isInteger(baud) && baud > 0)) {
    console.error(`trustlab restore: --baud ${options.baud}: expected a whole number of bits per second`);
    return 2;
  }
  try {
    const { recovery } = await restoreDevice({
      device: options.device,
      driver: options.driver,
      ...(baud ? { baud } : {}),
      ...(options.journal ? { journal: resolve(options.journal) } : {}),
    });
    for (const line of describeRecovery(recovery)) console.log(line);
    return (recovery.report?.failed.length ?? 0) > 0 ? 1 : 0;
  } catch (error) {
    const known = error instanceof JournalError || error instanceof RecoveryError;
    console.error(`trustlab restore: ${known ? '' : `${options.device}: `}${(error as Error).message}`);
    return 2;
  }
}
