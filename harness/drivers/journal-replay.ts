import type { AtEngine } from '../at/engine.ts';
import { formatCclk } from './cclk.ts';
import type { PendingChange } from './restore-journal.ts';

/** What replaying a journal did, change by change, newest first. */
export interface ReplayReport {
  /** `label: what was sent → the answer`, for each change put back. */
  readonly restored: readonly string[];
  /** `label: why`, for each change that could not be put back (it stays pending). */
  readonly failed: readonly string[];
  /** Ids of the changes put back, for the journal. */
  readonly restoredIds: readonly number[];
}

/**
 * Puts back every pending change of a journal through the AT port, newest first (the order the
 * changes were made in, reversed). A change whose commands fail stays pending and the replay goes
 * on: one stuck setting must not leave the others changed.
 */
export async function replayPending(
  at: AtEngine,
  pending: readonly PendingChange[],
  timeoutMs: number,
): Promise<ReplayReport> {
  const restored: string[] = [];
  const failed: string[] = [];
  const restoredIds: number[] = [];
  for (const change of [...pending].reverse()) {
    const commands =
      'clock' in change.undo
        ? [
            `AT+CCLK=${formatCclk(
              new Date(
                Date.parse(change.undo.clock.original) + Date.now() - Date.parse(change.undo.clock.takenAt),
              ),
            )}`,
          ]
        : change.undo.commands;
    const bestEffort = 'commands' in change.undo && change.undo.bestEffort === true;
    const answers: string[] = [];
    let ok = true;
    for (const command of commands) {
      const answer = await at.command(command, { timeoutMs }).catch((err: Error) => ({
        ok: false,
        final: err.message,
      }));
      answers.push(`${command} → ${answer.final}`);
      if (!answer.ok && !bestEffort) {
        ok = false;
        break;
      }
    }
    if (ok) {
      restored.push(`${change.label}: ${answers.join('; ')}`);
      restoredIds.push(change.id);
    } else failed.push(`${change.label}: ${answers.join('; ')}`);
  }
  return { restored, failed, restoredIds };
}
