import type { Duplex } from 'node:stream';
import type { Fault } from './faults.ts';
import type { DeviceTimeReport, LatencyModel } from './latency.ts';
import type { VirtualNetwork } from './network.ts';
import type { PersonalityName, TrustPersonality } from './personality.ts';
import type { ReceiveLimitModel } from './receive-limit.ts';
import type { TlsAttempt, TlsRequestSeen } from './session.ts';
import type { TlsEngine } from './tls/engine.ts';

/** What every virtual dialect is started with. */
export interface CommonModemOptions {
  readonly personality: TrustPersonality;
  readonly network: VirtualNetwork;
  readonly engine: { readonly engine: TlsEngine; readonly note: string };
  readonly model?: string;
  readonly firmware?: string;
  readonly clock?: Date;
  readonly latency?: LatencyModel;
  readonly faults?: readonly Fault[];
  /** How long the module takes to register after booting. */
  readonly attachMs?: number;
  /** nRF91 only: its server-chain limit and what happens past it (default 4,096 bytes, dropped). */
  readonly receiveLimit?: ReceiveLimitModel;
  /** Keep TLS sessions between connections and offer them again (default true). */
  readonly sessionCache?: boolean;
}

/** What each virtual modem class offers the runner. */
export interface VirtualModemCore {
  readonly model: string;
  readonly firmware: string;
  tlsAttempts(): readonly TlsAttempt[];
  tlsRequests(): readonly TlsRequestSeen[];
  deviceTime(): DeviceTimeReport;
  faultsFired(): readonly { kind: string; at: string; detail: string }[];
  shutdown(): void;
}

/** A dialect's own state before the harness arrives: Quectel files, nRF91 credentials. */
export interface DialectSeed {
  readonly files?: Readonly<Record<string, Buffer | string>>;
  readonly credentials?: readonly { tag: number; type: number; content: string }[];
}

/** Where the hostile-device suite places a dialect's faults: commands every case sends, and noise. */
export interface HostileTargets {
  /** Command patterns every case sends while configuring. */
  readonly settings: readonly string[];
  /** The command that opens the connection. */
  readonly open: string;
  /** URCs a real module of this dialect sends unasked. */
  readonly strayUrcs: readonly string[];
  /** The certificate upload damaged the way this dialect's upload can be. */
  damagedUpload(pick: (lo: number, hi: number) => number): readonly Fault[];
}

/**
 * The virtual side of one modem family: how its modem starts, what it is called in reports, and its
 * default personality. One folder per dialect exports one of these; `harness/families.ts` lists them.
 */
export interface VirtualDialect {
  readonly family: string;
  readonly defaultPersonality: PersonalityName;
  /** The device label in reports: `<label>:<personality>`. */
  readonly label: string;
  /** Whether the modem models a TLS receive limit (`receiveLimit` in its config). */
  readonly receiveLimit?: boolean;
  start(
    io: Duplex,
    common: CommonModemOptions,
    seed: DialectSeed,
  ): { readonly modem: VirtualModemCore; files(): ReadonlyMap<string, Buffer> };
  readonly hostile: HostileTargets;
}
