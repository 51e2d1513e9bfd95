import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { AtEngine } from '../at/engine.ts';
import { Transcript } from '../at/transcript.ts';
import type { DeviceIdentity, ModemDriver } from '../drivers/driver.ts';
import { atLineSpeed, DEFAULT_BAUD } from '../drivers/line-speed.ts';
import { Nrf91SlmDriver } from '../drivers/nrf91-slm/driver.ts';
import { NRF91_SLM_TIMEOUTS } from '../drivers/nrf91-slm/timeouts.ts';
import { QuectelDriver } from '../drivers/quectel/driver.ts';
import { ResetBudget } from '../drivers/quectel/reset-budget.ts';
import { QUECTEL_TIMEOUTS } from '../drivers/quectel/timeouts.ts';
import { installAbortRestore } from '../drivers/restore-stack.ts';
import type { TlsCapabilities } from '../drivers/tls-intent.ts';
import { createMemoryPair } from '../transport/memory-pair.ts';
import { openTransport, parseDeviceAddress } from '../transport/open.ts';
import { LOOPBACK_NETWORK, type VirtualNetwork } from '../virtual-modem/network.ts';
import type { PersonalityName } from '../virtual-modem/personality.ts';
import {
  type RunningVirtualModem,
  startVirtualModem,
  type VirtualModemConfig,
} from '../virtual-modem/start.ts';
import { type DeviceOwnership, nrf91Ownership, quectelOwnership } from './ownership.ts';

export const DRIVER_FAMILIES = ['quectel', 'nrf91-slm'] as const;
export type DriverFamily = (typeof DRIVER_FAMILIES)[number];

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
}

/** The personality a virtual modem of each family has unless told otherwise. */
const DEFAULT_PERSONALITY: Record<DriverFamily, PersonalityName> = {
  quectel: 'strict',
  'nrf91-slm': 'mfw-1.2.3',
};

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
  close(): Promise<void>;
}

/**
 * Resets of real modules are counted in a file shared by every run on this host, so a nightly suite
 * cannot exceed a module's daily budget however often it is started.
 */
const resetBudgetFile = () =>
  process.env.TRUSTLAB_RESET_BUDGET ?? join(homedir(), '.trustlab', 'reset-budget.json');

function makeDriver(
  family: DriverFamily,
  stream: Duplex,
  transcript: Transcript,
  real: boolean,
  owned: DeviceOwnership | undefined,
  baud: number,
): ModemDriver {
  const at = new AtEngine(stream, { transcript });
  switch (family) {
    case 'quectel':
      return new QuectelDriver(
        at,
        quectelOwnership(owned),
        atLineSpeed(QUECTEL_TIMEOUTS, baud, ['uploadTimeoutS', 'registrationPoll']),
        real ? { resetBudget: new ResetBudget({ file: resetBudgetFile() }) } : {},
      );
    case 'nrf91-slm':
      return new Nrf91SlmDriver(
        at,
        nrf91Ownership(owned),
        atLineSpeed(NRF91_SLM_TIMEOUTS, baud, ['registrationPollMs']),
      );
  }
}

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
        personality: request.personality ?? DEFAULT_PERSONALITY[request.driver],
        network: request.network ?? LOOPBACK_NETWORK,
        ...(request.builtinAnchorsPem !== undefined ? { builtinAnchorsPem: request.builtinAnchorsPem } : {}),
      },
      modemSide,
    );
    stream = host;
    label = `${request.driver === 'quectel' ? 'virtual' : 'virtual-nrf91'}:${virtualModem.personality}`;
    stopModem = () => virtualModem?.stop();
  }
  const driver = makeDriver(
    request.driver,
    stream,
    transcript,
    Boolean(request.device),
    request.owned,
    request.baud ?? DEFAULT_BAUD,
  );
  const identity = await driver.identify();
  const tls = await driver.tlsCapabilities();
  return {
    label,
    virtual: !request.device,
    driver,
    transcript,
    identity,
    tls,
    ...(virtualModem ? { virtualModem } : {}),
    async close() {
      stream.destroy();
      stopModem();
    },
  };
}
