/**
 * Bounds for each wait: the manual's maximum response times plus a margin for the link between host
 * and module (a USB-serial bridge or ser2net adds latency the vendor does not count).
 */
const LINK_MARGIN_MS = 700;

export const SIMCOM_A76XX_TIMEOUTS = {
  /** Plain commands and CSSLCFG/CCERT*: answered at once on every transcript seen. */
  basic: 300 + LINK_MARGIN_MS,
  /** AT+CCERTDOWN: from the `>` prompt until OK for a certificate of a few kilobytes. */
  certDownload: 10_000 + LINK_MARGIN_MS,
  /** AT+CMQTTSTART / AT+CMQTTSTOP until their result. */
  service: 12_000 + LINK_MARGIN_MS,
  /** AT+CMQTTCONNECT until +CMQTTCONNECT: DNS, TCP, the TLS handshake (negotiatetime up to 300 s) and CONNACK. */
  connect: 120_000,
  /** +CMQTTPUB: the pub_timeout the driver passes, plus margin. */
  packet: 65_000,
  /** +CMQTTDISC: the disconnect timeout the driver passes, plus margin. */
  disconnect: 15_000,
  /** AT+CRESET until the boot banner. */
  reboot: 60_000,
  /** After the banner until +CEREG/+CREG say registered. */
  registration: 90_000,
  /** Between two registration queries while waiting. */
  registrationPoll: 1_000,
} as const;

export type SimcomA76xxTimeouts = { readonly [K in keyof typeof SIMCOM_A76XX_TIMEOUTS]: number };

/** Seconds passed to AT+CMQTTPUB (pub_timeout, 60–180) and AT+CMQTTDISC (timeout). */
export const PUBLISH_TIMEOUT_S = 60;
export const DISCONNECT_TIMEOUT_S = 10;
