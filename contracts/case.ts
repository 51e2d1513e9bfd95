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
 * The device refused the command that carried the trust anchor (its upload into the device's
 * store, or its binding to the TLS context) with an error code of its own: it refused the anchor
 * before dialling anything. Never set for a timeout or a lost link.
 */
export interface AnchorRefusal {
  readonly stage: 'upload' | 'bind';
  /** The command as sent, without its data (the AT verb and its leading arguments). */
  readonly command: string;
  /** The device's final answer, verbatim. */
  readonly raw: string;
  readonly at: string;
}
