import { writeFileSync } from 'node:fs';
import { contractProblem } from '../contract.ts';
import type { CaseRecord } from '../record.ts';

/**
 * TrustLab's records in x509-limbo's own result format (upstream's `LimboResult`, version 1), so
 * limbo's tooling and anyone comparing harnesses can read a device's results beside a library's.
 */

export type ActualResult = 'SUCCESS' | 'FAILURE' | 'SKIPPED' | 'HANG';

export interface LimboTestcaseResult {
  readonly id: string;
  readonly actual_result: ActualResult;
  readonly context: string | null;
}

export interface LimboResult {
  readonly version: 1;
  readonly harness: string;
  readonly results: readonly LimboTestcaseResult[];
}

export const LIMBO_RESULTS_FILE = 'limbo-results.json';

/** The verdict key a limbo record carries in `verdicts` (limbo has one expectation per case, no profiles). */
export const LIMBO_VERDICT = 'limbo';

/** Accepted is SUCCESS and rejected FAILURE; anything that gave no verdict is SKIPPED, its reason kept. */
export function actualResultOf(outcome: CaseRecord['outcome']): ActualResult {
  if (outcome === 'accepted') return 'SUCCESS';
  if (outcome === 'rejected') return 'FAILURE';
  return 'SKIPPED';
}

/** What the server saw of the device's connection, in a few words (the client alert, when there was one). */
export function serverSawOf(r: CaseRecord): string {
  const s = r.server;
  if (s.connections === 0) return 'no connection';
  const parts = [`handshake ${s.handshake}`];
  if (s.clientAlert) parts.push(`client alert ${s.clientAlert.number} ${s.clientAlert.name}`);
  if (s.negotiated) parts.push(`${s.negotiated.version} ${s.negotiated.cipher}`);
  parts.push(s.sni ? `SNI ${s.sni}` : 'no SNI');
  if (s.mqttConnect) parts.push(`MQTT CONNECT ${s.mqttConnect.clientId}`);
  return parts.join(', ');
}

/** The device's raw codes, the server's observation, and the stack's own words when the device is virtual. */
export function contextOf(r: CaseRecord): string {
  if (r.outcome === 'skipped' || r.outcome === 'blocked') return `${r.outcome}: ${r.reason}`;
  const parts = [
    `device: ${r.codes.length > 0 ? r.codes.join(' | ') : 'no result code'}`,
    `server: ${serverSawOf(r)}`,
  ];
  if (r.virtualTls?.reason) parts.push(`${r.virtualTls.engine}: ${r.virtualTls.reason}`);
  if (r.outcome === 'inconclusive') parts.unshift(`inconclusive: ${r.reason}`);
  return parts.join('; ');
}

export function toLimboResult(records: readonly CaseRecord[], harness: string): LimboResult {
  return {
    version: 1,
    harness,
    results: records.map((r) => ({
      id: r.case,
      actual_result: actualResultOf(r.outcome),
      context: contextOf(r),
    })),
  };
}

/** Writes the results file, checked against the format first: a harness must never emit one limbo cannot read. */
export function writeLimboResult(file: string, result: LimboResult): void {
  const problem = contractProblem('limbo-result', result);
  if (problem) throw new Error(`limbo results would not meet the LimboResult format: ${problem}`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
}
