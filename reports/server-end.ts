import type { ServerSummary } from './record.ts';

/** How the connection ended, in words, from the server's record alone. */
export function describeServerEnd(s: ServerSummary): string {
  switch (s.handshake) {
    case 'no-connection':
      return 'no connection reached the server';
    case 'client-alert':
      return `client sent alert ${s.clientAlert?.number} ${s.clientAlert?.name}`;
    case 'closed-without-alert':
      return 'client closed during the handshake without an alert';
    case 'completed':
      if (s.mqttConnect)
        return `handshake completed; CONNECT ${s.mqttConnect.clientId}; ${s.publishes.length} PUBLISH`;
      return `handshake completed, then closed by ${s.closedBy ?? 'unknown'} before any MQTT (no alert)`;
    default:
      return `handshake ${s.handshake}`;
  }
}
