import type { AtDialect, AtEngine, AtResponse } from '../at/engine.ts';
import type { ModemDriver } from './driver.ts';
import type { DeviceOwnership, IndexRanges, OwnershipKey } from './ownership.ts';
import type { RestoreJournal } from './restore-journal.ts';
import type { RotationKind } from './rotation.ts';

/** What a driver is built with: the lab's ownership, the line's speed, and whether the module is real. */
export interface DriverContext {
  readonly owned: DeviceOwnership | undefined;
  readonly baud: number;
  /** A real module (its resets count against the daily budget); false for the built-in modem. */
  readonly real: boolean;
  /** The host-wide file that counts resets of real modules per day. */
  readonly resetBudgetFile: string;
  /** Keep settings between cases and send only what differs (false: every case from scratch). */
  readonly delta: boolean;
  /** Every change written before it is made (devices outside this process), or null. */
  readonly journal: RestoreJournal | null;
}

/** One read-only query of the health check; null when it was not answered at all. */
export type HealthAsk = (command: string) => Promise<AtResponse | null>;

/** Model and firmware revisions as a dialect reports them, or the command that went unanswered. */
export type HealthIdentity =
  | { readonly model: string | null; readonly revisions: readonly string[] }
  | { readonly unanswered: string; readonly answer: AtResponse | null };

/** The read-only queries the pre-run health check asks in this dialect. */
export interface FamilyHealth {
  identity(ask: HealthAsk): Promise<HealthIdentity>;
  /** Registration reads, best first (e.g. +CEREG, then +CREG on a module that may sit on 2G/3G). */
  readonly registration: readonly string[];
  /** The read that lists active PDP contexts (`<cid>,1` = active). */
  readonly pdp: string;
}

/**
 * Everything on the driver side of one modem family. Adding a family adds a folder that exports one
 * of these, and one line in `harness/families.ts`.
 */
export interface DriverFamilyModule {
  /** The name `--driver` and the inventory use. */
  readonly name: string;
  readonly title: string;
  /** Ownership keys this family uses; a lab that gives another is told so. */
  readonly ownershipKeys: readonly OwnershipKey[];
  /** Its SSL context and MQTT client index ranges, when it has them (Quectel's 0–5 otherwise). */
  readonly indexRanges?: IndexRanges;
  createDriver(at: AtEngine, context: DriverContext): ModemDriver;
  /** The dialect's URC table and restart banner, for an engine with no driver on it (the health check). */
  readonly at: AtDialect;
  readonly health: FamilyHealth;
  /** What this dialect's documentation says of each CA-rotation procedure, for the record. */
  readonly rotationDocumented?: Readonly<Partial<Record<RotationKind, string>>>;
}
