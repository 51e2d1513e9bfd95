import { AtEngine } from '../at/engine.ts';
import { Transcript } from '../at/transcript.ts';
import { DEFAULT_BAUD } from '../drivers/line-speed.ts';
import { familyNamed } from '../families.ts';
import { openTransport, parseDeviceAddress } from '../transport/open.ts';
import { deviceJournalPath, type Recovery, recoverFromJournal } from './journal-recovery.ts';

export interface RestoreRequest {
  readonly device: string;
  readonly driver: string;
  readonly baud?: number;
  /** A journal file other than the lab's per-device one (for example a run folder's copy). */
  readonly journal?: string;
}

/** Each replayed command's bound. */
const REPLAY_TIMEOUT_MS = 15_000;

/**
 * `trustlab restore`: opens the device, identifies it (queries only) and replays the open journal
 * an interrupted run left for it. Nothing else is sent; the transcript holds every command.
 */
export async function restoreDevice(
  request: RestoreRequest,
): Promise<{ recovery: Recovery; transcript: Transcript }> {
  const family = familyNamed(request.driver);
  const transcript = new Transcript();
  const stream = await openTransport(parseDeviceAddress(request.device, request.baud ?? DEFAULT_BAUD));
  try {
    const at = new AtEngine(stream, { transcript });
    // Identity only: no delta state and no journal of its own, so the driver changes nothing.
    const driver = family.driver.createDriver(at, {
      owned: undefined,
      baud: request.baud ?? DEFAULT_BAUD,
      real: true,
      resetBudgetFile: '',
      delta: false,
      journal: null,
    });
    const identity = await driver.identify();
    const journal = request.journal ?? deviceJournalPath(request.device);
    return {
      recovery: await recoverFromJournal(at, identity, family.driver.name, journal, REPLAY_TIMEOUT_MS),
      transcript,
    };
  } finally {
    stream.destroy();
  }
}
