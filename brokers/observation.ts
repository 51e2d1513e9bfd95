import type { TlsAlert } from './alerts.ts';
import type { ClientHelloSummary } from './client-hello.ts';

/** Which implementation served a connection. */
export type EngineName = 'aedes' | 'tls-echo' | 'mosquitto' | 'mosquitto-container';

/**
 * How the TLS handshake ended, from the server's side.
 * - `completed`: both Finished messages exchanged.
 * - `client-alert`: the client sent a fatal alert (mbedTLS, OpenSSL, GnuTLS do this on a bad chain).
 * - `closed-without-alert`: the client dropped TCP mid-handshake (a Node TLS 1.3 client rejecting does this).
 * - `server-error`: the server aborted (e.g. no shared version); `serverError` says why, `serverAlert`
 *   holds the alert it sent when that is known.
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

/**
 * Where a fact came from. `wire`: read from plaintext TLS records by the front (TLS ≤ 1.2 alerts,
 * ServerHello, certificates). `tls-stack`: the server's own TLS library said so (Node error text,
 * getPeerCertificate). `broker-log`: parsed from the broker's log (Mosquitto). `inferred`: mapped from
 * a reason string to the alert OpenSSL sends for it (not seen directly).
 */
export type EvidenceSource = 'wire' | 'tls-stack' | 'broker-log' | 'inferred';

export interface MqttConnectSeen {
  readonly clientId: string;
  readonly protocolLevel: number;
  readonly at: string;
  /** Username as the broker saw it (Mosquitto with use_identity_as_username: the client cert CN). */
  readonly username?: string | null;
}

export interface MqttPublishSeen {
  readonly topic: string;
  readonly payload: string;
  readonly at: string;
}

/** One certificate as seen on the wire or by the TLS stack. */
export interface SeenCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly sha256: string;
}

/** The certificate a client presented for mutual TLS. */
export interface ClientCertificateSeen extends SeenCertificate {
  /** Whether the endpoint's client CA verified it; null when the engine cannot say. */
  readonly verified: boolean | null;
  readonly verifyError: string | null;
  readonly source: EvidenceSource;
}

/** One direction of the byte stream, counted at the TLS record layer. */
export interface RecordStats {
  bytes: number;
  records: number;
  /** Largest record payload seen: shows the fragment size a server used, even for encrypted records. */
  maxRecordLength: number;
}

/**
 * What the front read from the bytes between client and engine. Everything after ChangeCipherSpec
 * (TLS 1.2) or after the ServerHello (TLS 1.3) is encrypted, so certificate lists are null there.
 */
export interface WireSummary {
  /**
   * Version and suite the server picked, from its ServerHello; the session id it answered with
   * (hex; equal to the ClientHello's in a TLS ≤ 1.2 resumption) and whether it accepted a TLS 1.3 PSK.
   */
  serverHello: {
    readonly version: string;
    readonly cipher: string;
    readonly sessionId?: string;
    readonly pskAccepted?: boolean;
  } | null;
  /** The chain exactly as the server sent it (TLS ≤ 1.2 only; null when encrypted or not seen). */
  servedChain: SeenCertificate[] | null;
  /** How many TLS records carried the server's Certificate message (TLS ≤ 1.2): >1 means fragmented. */
  certificateRecords: number | null;
  /** DER bytes of the certificates in the server's Certificate message (TLS ≤ 1.2; null when not seen). */
  servedChainBytes: number | null;
  /** Whether the server sent a CertificateRequest (TLS ≤ 1.2 only; null when encrypted). */
  certificateRequested: boolean | null;
  /** The client sent its ClientKeyExchange (TLS ≤ 1.2): it went on past the server's first flight. */
  clientKeyExchangeSeen: boolean;
  /** The chain the client sent for mutual TLS (TLS ≤ 1.2 only). */
  clientChain: SeenCertificate[] | null;
  /** Both sides finished the handshake, as far as the record layer shows it. */
  handshakeCompleteSeen: boolean;
  fromClient: RecordStats;
  fromServer: RecordStats;
}

/** One TCP connection as the endpoint saw it. Same shape for every endpoint implementation. */
export interface ConnectionObservation {
  readonly id: number;
  readonly engine: EngineName;
  readonly remote: string;
  readonly openedAt: string;
  closedAt: string | null;
  clientHello: ClientHelloSummary | null;
  /** Why the ClientHello could not be read, when it could not. */
  clientHelloError: string | null;
  handshake: HandshakeResult;
  negotiated: { readonly version: string; readonly cipher: string } | null;
  /** The TLS stack resumed an earlier session (ticket or session id): no certificate was sent. Null: not known. */
  resumed: boolean | null;
  /** SNI as the TLS stack resolved it (only known once the handshake completed). */
  servername: string | null;
  clientAlert: TlsAlert | null;
  clientAlertSource: EvidenceSource | null;
  /** The alert the server sent, when it sent one and it could be seen or inferred. */
  serverAlert: TlsAlert | null;
  serverAlertSource: EvidenceSource | null;
  serverError: string | null;
  /** What the front changed in the server's ServerHello (a tampering case); null when nothing. */
  serverHelloTampered: string | null;
  /** Why the server ended a connection on purpose (SNI routing, client certificate refused). */
  serverClosedReason: string | null;
  clientCertificate: ClientCertificateSeen | null;
  /** MQTT seen after the handshake, in order. */
  mqttConnect: MqttConnectSeen | null;
  readonly mqttPublishes: MqttPublishSeen[];
  /** Application bytes a raw TLS endpoint (no MQTT) received and echoed. */
  plainData: { bytes: number; firstBytes: string } | null;
  readonly wire: WireSummary;
  /** Who ended the connection, when it is known. */
  closedBy: 'client' | 'server' | 'unknown' | null;
  /** What this engine cannot tell about this connection (stated, never guessed). */
  readonly gaps: string[];
}

const emptyStats = (): RecordStats => ({ bytes: 0, records: 0, maxRecordLength: 0 });

export function newObservation(id: number, engine: EngineName, remote: string): ConnectionObservation {
  return {
    id,
    engine,
    remote,
    openedAt: new Date().toISOString(),
    closedAt: null,
    clientHello: null,
    clientHelloError: null,
    handshake: 'pending',
    negotiated: null,
    resumed: null,
    servername: null,
    clientAlert: null,
    clientAlertSource: null,
    serverAlert: null,
    serverAlertSource: null,
    serverError: null,
    serverHelloTampered: null,
    serverClosedReason: null,
    clientCertificate: null,
    mqttConnect: null,
    mqttPublishes: [],
    plainData: null,
    wire: {
      serverHello: null,
      servedChain: null,
      certificateRecords: null,
      servedChainBytes: null,
      certificateRequested: null,
      clientChain: null,
      clientKeyExchangeSeen: false,
      handshakeCompleteSeen: false,
      fromClient: emptyStats(),
      fromServer: emptyStats(),
    },
    closedBy: null,
    gaps: [],
  };
}
