/**
 * Types the device side (harness/), the suite and the reports all speak, kept below all of them so
 * none has to import another's internals for them.
 */

/** What the device did in one case, judged only from observations on both ends. */
export type CaseOutcome = 'accepted' | 'rejected' | 'inconclusive' | 'blocked' | 'skipped';

export interface LabNetwork {
  /** The host the device dials (an IP literal or a name the device can resolve). */
  readonly dialHost: string;
  /** A DNS name (three labels or more) the device resolves to the lab, for hostname cases. */
  readonly dialName?: string;
  /** Where the endpoint listens; loopback unless a lab says otherwise. */
  readonly listenHost: string;
}

export const LOOPBACK_LAB: LabNetwork = { dialHost: '127.0.0.1', listenHost: '127.0.0.1' };

/**
 * The device refused the trust anchor before dialling anything: it answered the command that
 * carried the anchor (its upload into the device's store, or its binding to the TLS context) with
 * an error code of its own, or (`never-dialled`) it took the anchor but never opened a connection,
 * the same way on every attempt, while its twin had just connected on the same device. Never set
 * for a timeout or a lost link.
 */
export interface AnchorRefusal {
  readonly stage: 'upload' | 'bind' | 'never-dialled';
  /** The command as sent, without its data (the AT verb and its leading arguments); for `never-dialled`, the driver step whose answer ended the case. */
  readonly command: string;
  /** The device's final answer, verbatim. */
  readonly raw: string;
  readonly at: string;
}

/** The stages a driver sees the device refuse an anchor at, by the device's own answer. */
export type DeviceAnswerStage = Exclude<AnchorRefusal['stage'], 'never-dialled'>;
