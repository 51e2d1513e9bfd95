import type { DeviceOutcome, RawCode } from './driver.ts';
import type { TlsIntent } from './tls-intent.ts';

/**
 * CA rotation on a device (as field support threads describe it): the CA the device trusts is replaced in the field.
 * - `rebind`: old CA uploaded and bound, connect; a new CA uploaded under a new name, the context
 *   (Quectel cacert, nRF sec_tag) rebound to it, reconnect WITHOUT reboot; the old file is deleted
 *   only after the reconnection published.
 * - `reboot`: new CA uploaded and bound, connect; the module rebooted (AT+CFUN=1,1 → RDY); the
 *   SSL settings and the owned files read back and recorded as found; the context configured again
 *   from the surviving file (no new upload), reconnect.
 */
export type RotationKind = 'rebind' | 'reboot';

/** Which side of the rotation a CA or a server belongs to. */
export type RotationSide = 'old' | 'new';

export interface RotationEndpoint {
  readonly host: string;
  readonly port: number;
}

/** One connection of a rotation: which CA the device has bound and which server it dials. */
export interface RotationStepPlan {
  readonly name: string;
  readonly anchors: RotationSide;
  readonly server: RotationSide;
}

/**
 * The steps of each rotation, in order, declared once: drivers run them, the suite opens each its
 * own door and reads them back. A step that did not run (an earlier one failed) is simply absent.
 */
export const ROTATION_PLAN: {
  readonly rebind: readonly [RotationStepPlan, RotationStepPlan, RotationStepPlan, RotationStepPlan];
  readonly reboot: readonly [RotationStepPlan, RotationStepPlan];
} = {
  rebind: [
    // The old CA reaches its own server and is refused by the new one: the two CAs are distinct.
    { name: 'old-ca/old-server', anchors: 'old', server: 'old' },
    { name: 'old-ca/new-server', anchors: 'old', server: 'new' },
    // After the rebind: the new CA reaches the new server, and no longer the old one.
    { name: 'new-ca/new-server', anchors: 'new', server: 'new' },
    { name: 'new-ca/old-server', anchors: 'new', server: 'old' },
  ],
  reboot: [
    { name: 'before-reboot', anchors: 'new', server: 'new' },
    { name: 'after-reboot', anchors: 'new', server: 'new' },
  ],
};

export interface RotationCaseInput {
  readonly caseId: string;
  readonly kind: RotationKind;
  readonly intent: TlsIntent;
  /** Device clock for the case, set before the first step and put back afterwards; absent leaves it alone. */
  readonly clock?: Date;
  /** Each step publishes here; the step name is added to client id, topic and payload. */
  readonly clientId: string;
  readonly topic: string;
  readonly payload: string;
  /** The CA before and after the rotation (PEM), each issuing only its own server's chain. */
  readonly anchors: Readonly<Record<RotationSide, string>>;
  /** A server whose chain only the old CA verifies, and one only the new CA verifies. */
  readonly servers: Readonly<Record<RotationSide, RotationEndpoint>>;
  /**
   * Where each step dials, by step name: its own door onto its side's server, so that what the
   * server saw on that port is that step's connection and no other's. A step not named here
   * dials its side's server.
   */
  readonly stepServers?: Readonly<Record<string, RotationEndpoint>>;
}

/** One connection of the rotation: which CA the device had bound, which server it dialled, what it said. */
export interface RotationStep {
  readonly name: string;
  readonly anchors: RotationSide;
  readonly server: RotationSide;
  readonly codes: RawCode[];
  readonly reached: DeviceOutcome['reached'];
  readonly startedAt: string;
  readonly endedAt: string;
}

/** What the device held across its reboot, read back raw. */
export interface RebootObservation {
  /** The restart as the device announced it (`RDY`), or a note when only AT answered. */
  readonly announced: string;
  /** Setting → raw read-back line, before and after the reboot. */
  readonly before: Readonly<Record<string, string>>;
  readonly after: Readonly<Record<string, string>>;
  /** Settings whose read-back after the reboot equals the value set before it. */
  readonly kept: readonly string[];
  /**
   * Which of these settings belong to the TLS context the case configured (the driver knows its
   * vocabulary; the suite does not). Empty for a dialect without such contexts (nRF91).
   */
  readonly contextSettings?: readonly string[];
  /** Settings whose read-back changed (or vanished) across the reboot. */
  readonly lost: readonly string[];
  /** Owned files listed before and after the reboot (names as the device lists them). */
  readonly filesBefore: readonly string[];
  readonly filesAfter: readonly string[];
}

export interface RotationOutcome extends DeviceOutcome {
  readonly kind: RotationKind;
  readonly steps: RotationStep[];
  /** Where each CA went on the device (Quectel UFS path, nRF `sec_tag:<n>`). */
  readonly stores: Readonly<Partial<Record<RotationSide, string>>>;
  /** The rebind command and its raw answer; null when the case did not get that far. */
  readonly rebind: RawCode | null;
  /** Deleting the old CA after the rebound connection published; null when it was not deleted. */
  readonly oldDeleted: RawCode | null;
  readonly reboot: RebootObservation | null;
}
