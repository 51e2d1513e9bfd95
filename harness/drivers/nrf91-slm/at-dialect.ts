import type { AtDialect } from '../../at/engine.ts';

/** What the Serial LTE Modem sends unasked: Ready after a reset, modem events, MQTT and socket events. */
export const NRF91_SLM_AT: AtDialect = {
  urcPrefixes: ['%MDMEV:', '%XMODEMSLEEP:', '#XMQTTEVT:', '#XMQTTMSG:', '#XSOCKET:', 'Ready'],
  restartNotice: /^Ready$/,
};
