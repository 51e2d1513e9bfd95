import type { MatrixCase } from './scenario-model.ts';

/**
 * What one case costs on a real EC200U, by where the time goes. The command count is measured by
 * `npm run bench:commands` from the transcripts of runs on the virtual modem: 11.5 per case over the
 * default matrix, 10.9 over the full one, with delta configuration (51 before it, when every case
 * read, set and restored all ~15 SSL keys); the per-command and network figures are assumptions
 * for a USB AT port at 115200 baud and an LTE link, on the pessimistic side of what the vendor note
 * allows (QSSLCFG answers within 300 ms, most commands within tens of ms).
 */
export interface RealModemCost {
  /** AT commands per case (AT, an upload and its binding when the anchors change, what else differs, QMT*). */
  readonly commandsPerCase: number;
  /** Average time from command to final result, serial transfer included. */
  readonly secondsPerCommand: number;
  /** QMTOPEN (TCP + TLS over LTE) + QMTCONN + QMTPUB + QMTDISC round trips. */
  readonly networkSecondsPerCase: number;
  /** Reference controls on the lab PC (twice for a defect: case and twin), run beside the device. */
  readonly controlSecondsPerRun: number;
  /** Pause between cases so the module releases its sockets (`--settle`). */
  readonly settleSeconds: number;
}

export const EC200U_PESSIMISTIC: RealModemCost = {
  commandsPerCase: 12,
  secondsPerCommand: 0.15,
  networkSecondsPerCase: 6,
  controlSecondsPerRun: 0.6,
  settleSeconds: 1,
};

/**
 * Seconds a matrix takes on a real modem under the cost model (skips and replays not subtracted).
 * The reference controls run on the lab PC beside the device's attempt (suites/execute.ts), so a
 * case takes the longer of the two, not their sum.
 */
export function estimateSeconds(
  cases: readonly MatrixCase[],
  cost: RealModemCost = EC200U_PESSIMISTIC,
): number {
  return cases.reduce((total, c) => {
    const controls = c.scenario.kind === 'defect' && c.scenario.certs.variant === 'spec' ? 2 : 1;
    const device = cost.commandsPerCase * cost.secondsPerCommand + cost.networkSecondsPerCase;
    return total + Math.max(device, controls * cost.controlSecondsPerRun) + cost.settleSeconds;
  }, 0);
}
