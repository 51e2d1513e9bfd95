import type { AtDialect } from '../../at/engine.ts';

/** MQTT, TCP and SSL writes that answer OK first and deliver their result as this URC. */
const RESULT_AFTER_OK = [
  '+QIOPEN:',
  '+QMTOPEN:',
  '+QMTCONN:',
  '+QMTPUB:',
  '+QMTPUBEX:',
  '+QMTDISC:',
  '+QMTCLOSE:',
  '+QSSLOPEN:',
] as const;

/**
 * What the Quectel dialect sends unasked: RDY and POWERED DOWN (a restart; APP RDY follows RDY
 * later, while commands are answered, so it is no restart), network and PDP reports, connection
 * state, and the results that a write announces with OK.
 */
export const QUECTEL_AT: AtDialect = {
  urcPrefixes: [
    'RDY',
    'APP RDY',
    'POWERED DOWN',
    '+QIND:',
    '+QIURC:',
    ...RESULT_AFTER_OK,
    '+QMTSTAT:',
    '+QMTRECV:',
    '+QMTPING:',
    '+QSSLURC:',
  ],
  resultAfterOk: RESULT_AFTER_OK,
  restartNotice: /^(RDY|POWERED DOWN)$/,
};
