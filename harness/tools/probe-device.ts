/**
 * Read-only first contact with a modem on the bench: who it is and what its test commands list
 * (AT+QSSLCFG=?, AT+QMTCFG=?, AT+QMTPUBEX=?, … or the SLM's), with the full AT transcript. It sends
 * only execution, read and test commands, so it changes nothing on the device.
 *
 *   npx tsx harness/tools/probe-device.ts --device /dev/serial/by-id/usb-Quectel_…-if02-port0
 *   npx tsx harness/tools/probe-device.ts --device tcp://lab-host:4001 --driver nrf91-slm
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AtEngine } from '../at/engine.ts';
import { formatTranscript, Transcript } from '../at/transcript.ts';
import type { DeviceIdentity } from '../drivers/driver.ts';
import { DEFAULT_BAUD } from '../drivers/line-speed.ts';
import { DEFAULT_FAMILY, FAMILY_NAMES, familyNamed } from '../families.ts';
import { type DeviceAddress, openTransport, parseDeviceAddress } from '../transport/open.ts';

export const PROBE_FAMILIES = FAMILY_NAMES;
export type ProbeFamily = string;

export interface ProbeResult {
  readonly identity: DeviceIdentity;
  readonly transcript: Transcript;
}

export async function probeDevice(address: DeviceAddress, family: ProbeFamily): Promise<ProbeResult> {
  // Identification sends only execution, read and test commands; a driver never writes in identify().
  const { driver: familyModule } = familyNamed(family);
  const stream = await openTransport(address);
  const transcript = new Transcript();
  try {
    const at = new AtEngine(stream, { transcript, defaultTimeoutMs: 2_000 });
    const driver = familyModule.createDriver(at, {
      owned: undefined,
      baud: DEFAULT_BAUD,
      // No reset budget: identify() never resets a module.
      real: false,
      resetBudgetFile: '',
      // Nothing is changed: nothing to keep or journal.
      delta: false,
      journal: null,
    });
    return { identity: await driver.identify(), transcript };
  } finally {
    stream.destroy();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      device: { type: 'string' },
      driver: { type: 'string', default: DEFAULT_FAMILY },
      baud: { type: 'string', default: '115200' },
      'no-rtscts': { type: 'boolean', default: false },
      transcript: { type: 'string' },
    },
  });
  const family = values.driver as ProbeFamily;
  if (!values.device || !PROBE_FAMILIES.includes(family)) {
    process.stderr.write(
      `usage: probe-device --device <path|tcp://host:port> [--driver ${PROBE_FAMILIES.join('|')}] [--baud N] [--no-rtscts] [--transcript FILE]\n`,
    );
    process.exit(2);
  }
  const address = parseDeviceAddress(values.device, Number(values.baud), !values['no-rtscts']);
  const { identity, transcript } = await probeDevice(address, family);
  if (values.transcript) writeFileSync(values.transcript, `${formatTranscript(transcript.since(0))}\n`);
  process.stdout.write(`${JSON.stringify(identity, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`probe-device: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
