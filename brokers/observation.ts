import type { TlsAlert } from './alerts.ts';
import type { ClientHelloSummary } from './client-hello.ts';

/**
 * How the TLS handshake ended, from the server's side.
 * - `completed`: both Finished messages exchanged.
 * - `client-alert`: the client sent a fatal alert (mbedTLS, OpenSSL, GnuTLS do this on a bad chain).
 * - `closed-without-alert`: the client dropped TCP mid-handshake (a Node TLS 1.3 client rejecting does this).
 * - `server-error`: the server aborted (e.g. no shared version); `serverError` says why.
 * - `not-tls`: the first bytes were not a TLS handshake record.
 * - `pending`: the connection is still open and the handshake has not ended.
 */
export type HandshakeResult =
  | 'completed'
  | 'client-alert'
  | 'closed-without-alert'
  | 'server-error'
  | 'not-tls'
  | 'pending';

export interface MqttConnectSeen {
  readonly clientId: string;
  readonly protocolLevel: number;
  readonly at: string;
}

export interface MqttPublishSeen {
  readonly topic: string;
  readonly payload: string;
  readonly at: string;
}

/** One TCP connection as the endpoint saw it. Same shape for every endpoint implementation. */
export interface ConnectionObservation {
  readonly id: number;
  readonly remote: string;
  readonly openedAt: string;
  closedAt: string | null;
  clientHello: ClientHelloSummary | null;
  /** Why the ClientHello could not be read, when it could not. */
  clientHelloError: string | null;
  handshake: HandshakeResult;
  negotiated: { readonly version: string; readonly cipher: string } | null;
  /** SNI as the TLS stack resolved it (only known once the handshake completed). */
  servername: string | null;
  clientAlert: TlsAlert | null;
  serverError: string | null;
  /** MQTT seen after the handshake, in order. */
  mqttConnect: MqttConnectSeen | null;
  readonly mqttPublishes: MqttPublishSeen[];
  /** Who ended the connection, when it is known. */
  closedBy: 'client' | 'server' | 'unknown' | null;
}
