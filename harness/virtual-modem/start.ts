import type { Duplex } from 'node:stream';
import { familyNamed } from '../families.ts';
import type { CommonModemOptions } from './dialect.ts';
import type { Fault } from './faults.ts';
import type { DeviceTimeReport, LatencyModel } from './latency.ts';
import { LOOPBACK_NETWORK, type VirtualNetwork } from './network.ts';
import {
  isPersonalityName,
  PERSONALITIES,
  type PersonalityName,
  type TrustPersonality,
} from './personality.ts';
import type { ReceiveLimitModel } from './receive-limit.ts';
import type { TlsAttempt, TlsRequestSeen } from './session.ts';
import type { TlsEngineId } from './tls/engine.ts';
import { type EngineChoice, selectEngine } from './tls/engines.ts';

/** Everything a virtual modem can be told, as data (the CLI and the runner pass it through). */
export interface VirtualModemConfig {
  /** The modem family (`harness/families.ts`); an unknown name is an error. */
  readonly family: string;
  readonly personality?: PersonalityName | TrustPersonality;
  /** PEM bundle for the personality's built-in store (a lab-made "public" root). */
  readonly builtinAnchorsPem?: string;
  /** Overrides the personality's engine (e.g. to compare stacks on one scenario). */
  readonly engine?: EngineChoice;
  readonly model?: string;
  readonly firmware?: string;
  readonly network?: VirtualNetwork;
  readonly files?: Readonly<Record<string, Buffer | string>>;
  /** nRF91: credentials in the modem before the harness arrives. */
  readonly credentials?: readonly { tag: number; type: number; content: string }[];
  /** Module clock at start (host time when absent). */
  readonly clock?: Date;
  readonly latency?: LatencyModel;
  readonly faults?: readonly Fault[];
  /** How long the module takes to register after booting (Quectel: after RDY; nRF91: after CFUN=1). */
  readonly attachMs?: number;
  /** nRF91 only: the server-chain limit and what happens past it (`{serverChainBytes, past}`). */
  readonly receiveLimit?: ReceiveLimitModel;
  /** Keep TLS sessions between connections and offer them to the same server again (default true). */
  readonly sessionCache?: boolean;
}

/** A running virtual modem: what it is, which TLS engine answers, and what it did. */
export interface RunningVirtualModem {
  readonly family: string;
  readonly model: string;
  readonly firmware: string;
  readonly personality: string;
  /** The engine that answers this modem's handshakes, and why (for the record). */
  readonly engine: TlsEngineId;
  readonly engineNote: string;
  tlsAttempts(): readonly TlsAttempt[];
  /** What the TLS client was configured with at each dial (settings, files, clock), in order. */
  tlsRequests(): readonly TlsRequestSeen[];
  /** Modelled device time of the session so far (zero without a latency model). */
  deviceTime(): DeviceTimeReport;
  faultsFired(): readonly { kind: string; at: string; detail: string }[];
  /** Quectel: UFS files. nRF91: credentials as `<sec_tag>/<type>`. */
  files(): ReadonlyMap<string, Buffer>;
  stop(): void;
}

export function resolvePersonality(
  config: Pick<VirtualModemConfig, 'personality' | 'builtinAnchorsPem' | 'engine'>,
) {
  const given = config.personality ?? 'strict';
  if (typeof given === 'string' && !isPersonalityName(given)) {
    throw new Error(`unknown personality ${given}; known: ${Object.keys(PERSONALITIES).join(', ')}`);
  }
  const base: TrustPersonality = typeof given === 'string' ? PERSONALITIES[given] : given;
  return {
    ...base,
    ...(config.builtinAnchorsPem !== undefined ? { builtinAnchorsPem: config.builtinAnchorsPem } : {}),
    ...(config.engine !== undefined ? { engine: config.engine } : {}),
  };
}

/**
 * Starts a virtual modem on the modem side of a byte stream. The TLS engine is chosen here, up
 * front: an engine the personality names but this machine lacks is an error now, not mid-case.
 */
export async function startVirtualModem(
  config: VirtualModemConfig,
  io: Duplex,
): Promise<RunningVirtualModem> {
  const dialect = familyNamed(config.family).virtual;
  const personality = resolvePersonality(config);
  const selection = await selectEngine(personality.engine);
  const common: CommonModemOptions = {
    personality,
    network: config.network ?? LOOPBACK_NETWORK,
    engine: { engine: selection.engine, note: selection.note },
    ...(config.model ? { model: config.model } : {}),
    ...(config.firmware ? { firmware: config.firmware } : {}),
    ...(config.clock ? { clock: config.clock } : {}),
    ...(config.latency ? { latency: config.latency } : {}),
    ...(config.faults ? { faults: config.faults } : {}),
    ...(config.attachMs !== undefined ? { attachMs: config.attachMs } : {}),
    ...(config.receiveLimit ? { receiveLimit: config.receiveLimit } : {}),
    ...(config.sessionCache !== undefined ? { sessionCache: config.sessionCache } : {}),
  };
  if (config.receiveLimit && !dialect.receiveLimit)
    throw new Error(
      `receiveLimit: the virtual ${config.family} does not model a TLS receive limit (nrf91-slm does)`,
    );
  const { modem, files } = dialect.start(io, common, {
    ...(config.files ? { files: config.files } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
  return {
    family: config.family,
    model: modem.model,
    firmware: modem.firmware,
    personality: personality.name,
    engine: selection.engine.id,
    engineNote: selection.note,
    tlsAttempts: () => modem.tlsAttempts(),
    tlsRequests: () => modem.tlsRequests(),
    deviceTime: () => modem.deviceTime(),
    faultsFired: () => modem.faultsFired(),
    files,
    stop: () => {
      modem.shutdown();
      io.destroy();
    },
  };
}
