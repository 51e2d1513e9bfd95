import type { DeviceAnswerStage } from '../../contracts/case.ts';
import { AtCommandError } from '../at/errors.ts';
import type { CaseLog } from './case-log.ts';

/**
 * Runs the step that hands the device its trust anchor (upload or binding). When the device
 * answers it with an error code of its own, that is recorded as the device refusing the anchor
 * (with the raw answer) before the error goes on; a timeout or a lost link is not a refusal.
 */
export async function anchorStep<T>(
  log: CaseLog,
  stage: DeviceAnswerStage,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AtCommandError) log.refuseAnchor(stage, err.command, err.final);
    throw err;
  }
}
