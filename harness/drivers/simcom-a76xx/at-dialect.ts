import type { AtDialect } from '../../at/engine.ts';

/** Writes that answer OK first and deliver their result as this line (either order is seen in transcripts). */
const RESULT_AFTER_OK = [
  '+CMQTTSTART:',
  '+CMQTTSTOP:',
  '+CMQTTCONNECT:',
  '+CMQTTPUB:',
  '+CMQTTDISC:',
] as const;

/**
 * What the A76xx dialect sends unasked: the boot banners (`*ATREADY: 1` on A76xx, `RDY` on the
 * SIM7600 line), SIM and phonebook readiness, MQTT results after OK, a lost connection, and
 * received messages.
 */
export const SIMCOM_A76XX_AT: AtDialect = {
  urcPrefixes: [
    '*ATREADY:',
    'RDY',
    'SMS DONE',
    'PB DONE',
    ...RESULT_AFTER_OK,
    '+CMQTTCONNLOST:',
    '+CMQTTNONET',
    '+CMQTTRXSTART:',
    '+CMQTTRXTOPIC:',
    '+CMQTTRXPAYLOAD:',
    '+CMQTTRXEND:',
  ],
  resultAfterOk: RESULT_AFTER_OK,
  restartNotice: /^(\*ATREADY: 1|RDY)$/,
};
