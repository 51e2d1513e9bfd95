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
