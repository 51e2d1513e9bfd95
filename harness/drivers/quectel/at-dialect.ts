import type { AtDialect } from '../../at/engine.ts';

/**
 * What the Quectel dialect sends unasked: RDY and POWERED DOWN (a restart; APP RDY follows RDY
 * later, while commands are answered, so it is no restart), network and PDP reports, and the MQTT,
 * TCP and SSL results that a write announces with OK and delivers as a URC.
 */
export const QUECTEL_AT: AtDialect = {
  urcPrefixes: [
    'RDY',
    'APP RDY',
    'POWERED DOWN',
    '+QIND:',
    '+QIURC:',
    '+QIOPEN:',
    '+QMTOPEN:',
    '+QMTCONN:',
    '+QMTPUB:',
    '+QMTPUBEX:',
    '+QMTDISC:',
    '+QMTCLOSE:',
    '+QMTSTAT:',
    '+QMTRECV:',
    '+QMTPING:',
    '+QSSLOPEN:',
    '+QSSLURC:',
  ],
  resultAfterOk: [
    '+QIOPEN:',
    '+QMTOPEN:',
    '+QMTCONN:',
    '+QMTPUB:',
    '+QMTPUBEX:',
    '+QMTDISC:',
    '+QMTCLOSE:',
    '+QSSLOPEN:',
  ],
  restartNotice: /^(RDY|POWERED DOWN)$/,
};
