/** Bounds for the Serial LTE Modem's commands, with a margin for the UART or ser2net link. */
const LINK_MARGIN_MS = 700;

export const NRF91_SLM_TIMEOUTS = {
  /** Plain commands answered by the modem or SLM at once. */
  basic: 1_000 + LINK_MARGIN_MS,
  /** AT+CFUN=1/4: the modem switches radio state. */
  cfun: 10_000,
  /** %CMNG writes go to the modem's flash. */
  cmng: 5_000,
  /** Until +CEREG reports home (1) or roaming (5) after CFUN=1. */
  registration: 120_000,
  /** Between +CEREG polls. */
  registrationPollMs: 500,
  /** #XMQTTCON / #XCONNECT: DNS, TCP and the TLS handshake run inside the command. */
  connect: 120_000,
  /** After AT#XRESET until the `Ready` banner: SLM powers the modem off (1–2 s) and cold-boots the SiP. */
  reboot: 30_000,
  /** #XMQTTEVT after an MQTT packet was sent. */
  mqttPacket: 30_000,
} as const;

export type Nrf91SlmTimeouts = { readonly [K in keyof typeof NRF91_SLM_TIMEOUTS]: number };
