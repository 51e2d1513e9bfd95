import type { AtEngine } from '../at/engine.ts';
import { isLinkFault } from '../at/errors.ts';
import { CaseLog } from './case-log.ts';
import type { DeviceOutcome } from './driver.ts';
import type { RestoreJournal } from './restore-journal.ts';
import { RestoreStack, registerForAbort } from './restore-stack.ts';

/** Whether the device answers a plain AT within the bound. */
export async function deviceAnswers(at: AtEngine, timeoutMs: number): Promise<boolean> {
  try {
    return (await at.command('AT', { timeoutMs })).ok;
  } catch {
    return false;
  }
}

/** What a dialect adds to the frame every case runs in. */
export interface CaseFrameHooks {
  /** After a failure while the device still answers: diagnostics such as AT+QIGETERROR. */
  readonly afterFailure?: (log: CaseLog) => Promise<void>;
  /** Once everything is restored: why the log shows an unhealthy device (e.g. a restart), or null. */
  readonly faultSeen?: (log: CaseLog) => string | null;
  /** Tells the driver which restore stack is live, so its abort() can unwind it. */
  readonly track: (stack: RestoreStack | null) => void;
  /** Where the case's own undos (an open MQTT client, a socket) are written too, for a restore after a crash. */
  readonly journal?: RestoreJournal | null;
}

/**
 * The frame of every device case, for every dialect: the device must answer before it starts; what
 * the body opens (and, from scratch, each setting it changes; under delta configuration settings
 * are on the run's stack) is on a restore stack, unwound at the end and on SIGINT; a refused
 * command is an answer but silence or a lost link makes the device unhealthy, as do failed
 * restores, a fault the dialect recognises, or a device that stops answering after a failure.
 */
export async function runCaseFrame(
  at: AtEngine,
  timeoutMs: number,
  hooks: CaseFrameHooks,
  body: (stack: RestoreStack, log: CaseLog) => Promise<void>,
): Promise<DeviceOutcome> {
  const log = new CaseLog();
  // In step before the case: a boot banner or URC from before this point is not the case's.
  if (!(await deviceAnswers(at, timeoutMs)))
    return log.outcome('device did not answer AT before the case', false, []);
  const stack = new RestoreStack(hooks.journal ?? null);
  const unregister = registerForAbort(stack);
  hooks.track(stack);
  const stopListening = log.listen(at);
  at.clearBacklog();
  let error: string | null = null;
  let healthy = true;
  let restoreFailures: string[] = [];
  try {
    await body(stack, log);
  } catch (err) {
    error = (err as Error).message;
    // A refused command or a wrong read-back is an answer; silence or a lost link is not.
    healthy = !isLinkFault(err);
    if (healthy && hooks.afterFailure) await hooks.afterFailure(log).catch(() => {});
  } finally {
    restoreFailures = await stack.unwind();
    unregister();
    hooks.track(null);
    stopListening();
  }
  if (restoreFailures.length > 0) {
    error ??= `restore failed: ${restoreFailures.join('; ')}`;
    healthy = false;
  }
  const fault = hooks.faultSeen?.(log) ?? null;
  if (fault) {
    error = `${fault}${error ? `; ${error}` : ''}`;
    healthy = false;
  }
  // A case that ended without an error had every command answered, its last one just now: only
  // one that failed must show the device still answers (the next case's first AT asks anyway).
  if (healthy && error !== null && !(await deviceAnswers(at, timeoutMs))) {
    healthy = false;
    error ??= 'device stopped answering AT after the case';
  }
  return log.outcome(error, healthy, restoreFailures);
}
