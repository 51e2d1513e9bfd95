import { AtEngine } from '../../at/engine.ts';
import { Transcript } from '../../at/transcript.ts';
import { QuectelDriver } from '../../drivers/quectel/driver.ts';
import { createMemoryPair } from '../../transport/memory-pair.ts';
import type { Fault } from '../faults.ts';
import type { LatencyModel } from '../latency.ts';
import type { TrustPersonality } from '../personality.ts';
import { TEST_NETWORK } from '../testing.ts';
import { VirtualQuectelModem } from './modem.ts';

/** A virtual Quectel modem driven through the real harness client (AtEngine + QuectelDriver). */
export function quectelRig(
  personality: TrustPersonality,
  extra: {
    latency?: LatencyModel;
    faults?: readonly Fault[];
    files?: Record<string, string>;
    model?: string;
    attachMs?: number;
  } = {},
) {
  const [host, modemSide] = createMemoryPair();
  const modem = new VirtualQuectelModem(modemSide, { personality, network: TEST_NETWORK, ...extra });
  const transcript = new Transcript();
  const at = new AtEngine(host, { transcript });
  const driver = new QuectelDriver(at);
  return {
    modem,
    at,
    driver,
    transcript,
    close() {
      host.destroy();
      modemSide.destroy();
    },
  };
}
