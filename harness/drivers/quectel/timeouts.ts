/**
 * Bounds for each wait, from the vendor's maximum response times plus a margin for the serial or
 * TCP link between host and module (a USB-serial bridge or ser2net adds latency the vendor does
 * not count).
 */
const LINK_MARGIN_MS = 700;

export const QUECTEL_TIMEOUTS = {
  /** Plain commands: 300 ms in the SSL application note. */
  basic: 300 + LINK_MARGIN_MS,
  /** AT+QFUPL: the upload's own timeout argument (seconds) bounds the data phase. */
  uploadTimeoutS: 10,
  /** +QMTOPEN: network open, DNS and the TLS handshake (negotiatetime defaults to 300 s). */
  mqttOpen: 120_000,
  /** +QMTCONN, +QMTPUBEX, +QMTDISC: MQTT packet timeout (5 s) × retries (3) + margin. */
  mqttPacket: 20_000,
  /** +QMTCLOSE. */
  mqttClose: 30_000,
  /** AT+QIACT / +QSSLOPEN network part: 150 s maximum network response time in the application notes. */
  network: 150_000 + LINK_MARGIN_MS,
  /** AT+QSSLCLOSE: its close_timeout (10 s default) + margin. */
  sslClose: 10_000 + LINK_MARGIN_MS,
  /** AT+CFUN=1,1 until RDY: module boot time, generous. */
  reboot: 60_000,
  /** After RDY until +CEREG/+CREG say registered: cell search and attach, generous for weak coverage. */
  registration: 90_000,
  /** Between two registration queries while waiting. */
  registrationPoll: 1_000,
} as const;

export type QuectelTimeouts = { readonly [K in keyof typeof QUECTEL_TIMEOUTS]: number };
