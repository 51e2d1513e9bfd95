import type { CapabilityDump } from '../test-answers.ts';

/** The test commands captured once per device; the driver drives from what they list. */
export const CAPABILITY_PROBES = [
  'AT+QSSLCFG=?',
  'AT+QMTCFG=?',
  'AT+QMTPUBEX=?',
  'AT+QMTPUB=?',
  'AT+QFUPL=?',
] as const;

/**
 * How this device publishes. `data`: `AT+QMTPUBEX=<idx>,<msgid>,<qos>,<retain>,"<topic>",<len>`, then
 * `>` and exactly len bytes. `inline`: the payload as a quoted last argument (Quectel's SDK form for
 * some modules). `basis` says whether a test answer decided it or the documented EC200U form was assumed.
 */
export interface PublishForm {
  readonly command: 'QMTPUBEX' | 'QMTPUB';
  readonly mode: 'data' | 'inline';
  readonly basis: 'listed' | 'assumed';
}

/**
 * Picks the publish form from `AT+QMTPUBEX=?` / `AT+QMTPUB=?`. The last parameter of the answer
 * decides the mode: a numeric range is a length (data mode), a quoted/`<msg>` field is an inline payload.
 */
export function choosePublishForm(dump: CapabilityDump): PublishForm {
  for (const command of ['QMTPUBEX', 'QMTPUB'] as const) {
    const lines = dump[`AT+${command}=?`];
    const line = lines?.find((l) => l.startsWith(`+${command}:`));
    if (!line) continue;
    const last = line.split(',').at(-1)?.trim() ?? '';
    const mode = /^\(?\d+(-\d+)?\)?$/.test(last) ? 'data' : 'inline';
    return { command, mode, basis: 'listed' };
  }
  return { command: 'QMTPUBEX', mode: 'data', basis: 'assumed' };
}
