import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { AtEngine } from '../at/engine.ts';
import { Transcript } from '../at/transcript.ts';
import type { DeviceIdentity, ModemDriver } from '../drivers/driver.ts';
import { DEFAULT_BAUD } from '../drivers/line-speed.ts';
import type { DeviceOwnership } from '../drivers/ownership.ts';
import { RestoreJournal } from '../drivers/restore-journal.ts';
import { installAbortRestore } from '../drivers/restore-stack.ts';
import type { TlsCapabilities } from '../drivers/tls-intent.ts';
import { FAMILY_NAMES, familyNamed } from '../families.ts';
import { createMemoryPair } from '../transport/memory-pair.ts';
import { openTransport, parseDeviceAddress } from '../transport/open.ts';
import { LOOPBACK_NETWORK, type VirtualNetwork } from '../virtual-modem/network.ts';
import type { PersonalityName } from '../virtual-modem/personality.ts';
import {
  type RunningVirtualModem,
  startVirtualModem,
  type VirtualModemConfig,
} from '../virtual-modem/start.ts';
import {
  describeRecovery,
  deviceJournalPath,
  type Recovery,
  RecoveryError,
  RUN_JOURNAL_FILE,
  recoverFromJournal,
  stateDir,
} from './journal-recovery.ts';

/** Every family a device can be driven as (the registry's names). */
export const DRIVER_FAMILIES = FAMILY_NAMES;
export type DriverFamily = string;

export interface DeviceRequest {
  /** Serial path or tcp://host:port; absent starts the built-in virtual modem. */
  readonly device?: string;
  readonly driver: DriverFamily;
  /** Device resources the harness may use instead of the driver's defaults (lab inventory, `--file-prefix`…). */
  readonly owned?: DeviceOwnership;
  /**
   * The AT line's speed: a serial port is opened at it, and every wait is stretched by the time the
   * longest answer takes on it (ser2net: the speed of the far side). Default 115200.
   */
  readonly baud?: number;
  /** Personality of the virtual modem (ignored for real devices). */
  readonly personality?: PersonalityName;
  readonly network?: VirtualNetwork;
  /** PEM bundle for the virtual modem's built-in store (a lab-made "public" root). */
  readonly builtinAnchorsPem?: string;
  /** More virtual-modem settings: model, firmware, clock, engine, latency, faults, files. */
  readonly virtualModem?: Omit<
    VirtualModemConfig,
    'family' | 'personality' | 'network' | 'builtinAnchorsPem'
  >;
  /** False configures every case from scratch and restores at its end (default: delta configuration). */
  readonly delta?: boolean;
  /** The run folder: a device outside this process gets its restore journal there too. */
  readonly runDir?: string;
}

/** An opened device: its driver, the transcript of everything said to it, and how to let go of it. */
export interface OpenDevice {
  readonly label: string;
  readonly virtual: boolean;
  readonly driver: ModemDriver;
  readonly transcript: Transcript;
  readonly identity: DeviceIdentity;
  /** What its TLS client can be told, as its driver learned it from the module's answers. */
  readonly tls: TlsCapabilities;
  /** The built-in modem when the device is virtual: which TLS engine answered, modelled device time. */
  readonly virtualModem?: RunningVirtualModem;
  /** What was put back at open from an earlier run's open journal (devices outside this process), or null. */
  readonly recovered: Recovery | null;
  /**
   * Puts back everything the run changed and kept between cases; `label: error` for each that
   * failed (the journal then stays open for `trustlab restore`). Safe to call more than once.
   */
  restore(): Promise<string[]>;
  /** Restores (if not yet done) and lets go of the device. */
  close(): Promise<void>;
}

/**
 * Resets of real modules are counted in a file shared by every run on this host, so a nightly suite
 * cannot exceed a module's daily budget however often it is started.
 */
const resetBudgetFile = () => process.env.TRUSTLAB_RESET_BUDGET ?? join(stateDir(), 'reset-budget.json');

/** How long a real port may stay away (module reboot, USB re-enumeration, ser2net restart) before the link counts as lost. */
const REAL_DEVICE_RECONNECT = { initialDelayMs: 200, maxDelayMs: 2_000, giveUpAfterMs: 60_000 } as const;

/** Opens a real device's AT port so that it survives the port vanishing, noting each loss in the transcript. */
async function openRealDevice(device: string, transcript: Transcript, baud: number): Promise<Duplex> {
  const stream = await openTransport(parseDeviceAddress(device, baud), { reconnect: REAL_DEVICE_RECONNECT });
  stream.on('disconnected', (why: string) => transcript.record('note', `port lost (${why}); reopening`));
  stream.on('reconnected', (attempts: number) =>
    transcript.record('note', `port reopened after ${attempts} attempt(s)`),
  );
  return stream;
}

export async function openDevice(request: DeviceRequest): Promise<OpenDevice> {
  // An unknown family is an error before any port is opened, never another dialect.
  const family = familyNamed(request.driver);
  const transcript = new Transcript();
  let stream: Duplex;
  let label: string;
  let stopModem = () => {};
  let virtualModem: RunningVirtualModem | undefined;
  if (request.device) {
    stream = await openRealDevice(request.device, transcript, request.baud ?? DEFAULT_BAUD);
    label = request.device;
    // Ctrl-C during a lab run puts back what the running case changed on the module before exiting.
    installAbortRestore();
  } else {
    const [host, modemSide] = createMemoryPair();
    virtualModem = await startVirtualModem(
      {
        ...request.virtualModem,
        family: request.driver,
        personality: request.personality ?? family.virtual.defaultPersonality,
        network: request.network ?? LOOPBACK_NETWORK,
        ...(request.builtinAnchorsPem !== undefined ? { builtinAnchorsPem: request.builtinAnchorsPem } : {}),
      },
      modemSide,
    );
    stream = host;
    label = `${family.virtual.label}:${virtualModem.personality}`;
    stopModem = () => virtualModem?.stop();
  }
  // A device outside this process outlives it: every change is journaled before it is made.
  const journalPaths = request.device
    ? [deviceJournalPath(request.device), ...(request.runDir ? [join(request.runDir, RUN_JOURNAL_FILE)] : [])]
    : [];
  const journal = journalPaths.length > 0 ? RestoreJournal.prepare(journalPaths) : null;
  const at = new AtEngine(stream, { transcript });
  const driver = family.driver.createDriver(at, {
    owned: request.owned,
    baud: request.baud ?? DEFAULT_BAUD,
    real: Boolean(request.device),
    resetBudgetFile: resetBudgetFile(),
    delta: request.delta !== false,
    journal,
  });
  let recovered: Recovery | null = null;
  try {
    const identity = await driver.identify();
    if (request.device && journal) {
      // Before anything else: an earlier run that died mid-case left its changes in the journal.
      recovered = await recoverFromJournal(
        at,
        identity,
        family.driver.name,
        deviceJournalPath(request.device),
        RECOVERY_TIMEOUT_MS,
      );
      for (const line of describeRecovery(recovered)) transcript.record('note', line);
      if (recovered.report && recovered.report.failed.length > 0) {
        throw new RecoveryError(
          `the device was not fully restored from ${recovered.journal}: ${recovered.report.failed.join('; ')} (run trustlab restore once it answers)`,
        );
      }
      journal.begin({
        device: request.device,
        family: family.driver.name,
        imei: identity.imei,
        run: request.runDir ?? null,
      });
    }
    const tls = await driver.tlsCapabilities();
    let restoring: Promise<string[]> | null = null;
    const restore = () => {
      restoring ??= (driver.restoreAll?.() ?? Promise.resolve([])).then((failures) => {
        if (failures.length === 0) journal?.close();
        else journal?.release();
        return failures;
      });
      return restoring;
    };
    return {
      label,
      virtual: !request.device,
      driver,
      transcript,
      identity,
      tls,
      recovered,
      ...(virtualModem ? { virtualModem } : {}),
      restore,
      async close() {
        await restore().catch(() => []);
        stream.destroy();
        stopModem();
      },
    };
  } catch (error) {
    journal?.release();
    stream.destroy();
    stopModem();
    throw error;
  }
}

/** Each replayed command's bound (a QSSLCFG answers within 300 ms; a clock or PDP change takes longer). */
const RECOVERY_TIMEOUT_MS = 15_000;
