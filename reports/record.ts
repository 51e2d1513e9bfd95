import type { TlsAlert } from '../brokers/alerts.ts';
import type { ClientHelloSummary } from '../brokers/client-hello.ts';
import type { ClientCertificateSeen, HandshakeResult } from '../brokers/observation.ts';
import type { CertSummary } from '../certs/spec.ts';
import type { AnchorRefusal, CaseOutcome } from '../contracts/case.ts';

/** What the server saw of the device's connection, flattened for reports. */
export interface ServerSummary {
  readonly connections: number;
  /** SNI from the ClientHello; null when the client sent none or never got that far. */
  readonly sni: string | null;
  readonly handshake: HandshakeResult | 'no-connection';
  readonly clientAlert: TlsAlert | null;
  readonly negotiated: { readonly version: string; readonly cipher: string } | null;
  readonly mqttConnect: { readonly clientId: string; readonly protocolLevel: number } | null;
  readonly publishes: readonly { readonly topic: string; readonly payload: string }[];
  readonly closedBy: string | null;
  readonly clientHello: ClientHelloSummary | null;
  /** Mutual TLS: the client certificate the server saw, if it asked for one. */
  readonly clientCertificate?: ClientCertificateSeen | null;
  /**
   * What the server's side of the wire carried (TLS ≤ 1.2 plaintext): the served chain's DER bytes
   * and how many records its Certificate message took (> 1: fragmented), and the largest record.
   */
  readonly wire?: {
    readonly servedChainBytes: number | null;
    readonly certificateRecords: number | null;
    readonly largestServerRecord: number;
    /** The device sent its ClientKeyExchange (TLS ≤ 1.2): it went on past the server's first flight. */
    readonly clientKeyExchange?: boolean;
  };
  /** What the lab changed in the ServerHello it sent (a tampering case); absent when nothing. */
  readonly serverHelloTampered?: string;
}

/**
 * One line of results.jsonl. Later work adds fields; the ones here keep their names and meaning
 * because lab scripts read them.
 */
export interface CaseRecord {
  readonly case: string;
  readonly title: string;
  /** Device settings and lab parameters the case ran under. */
  readonly params: Readonly<Record<string, string | number>>;
  readonly outcome: CaseOutcome;
  readonly reason: string;
  /** Profile name → verdict. */
  readonly verdicts: Readonly<Record<string, string>>;
  /** Raw result codes and URCs from the device, in order, exactly as received. */
  readonly codes: readonly string[];
  /**
   * Every URC that arrived during the case, raw and in order, solicited or not (a
   * `+QIURC: "pdpdeact"` or a boot banner mid-case shows here even when no code names it).
   */
  readonly urcs?: readonly string[];
  readonly server: ServerSummary;
  readonly device: {
    readonly label: string;
    readonly model: string;
    readonly firmware: string;
    readonly reached: {
      readonly tlsOpened: boolean;
      readonly mqttConnected: boolean;
      readonly publishAcked: boolean;
    };
    readonly error: string | null;
    readonly healthy: boolean;
    /** The device refused the anchor's upload or binding with its own code, before dialling. */
    readonly anchorRefused?: AnchorRefusal;
  };
  readonly certs: { readonly anchors: readonly CertSummary[]; readonly served: readonly CertSummary[] };
  /** Path of the AT transcript, relative to the run folder. */
  readonly transcriptFile: string | null;
  /** Path of the case's PEM bundle (anchors given to the device, then the chain served), relative to the run folder. */
  readonly pemFile?: string | null;
  /** What the device was told to send, so the broker's record can be checked against it later. */
  readonly mqtt?: { readonly clientId: string; readonly topic: string; readonly payload: string };
  /**
   * Reference clients run against the same endpoint (suites/ fills it in). Rendered as given: an
   * array of objects, one per client, e.g. `{ client, result, detail }`.
   */
  readonly controls?: readonly Readonly<Record<string, unknown>>[];
  /**
   * Built-in virtual modem only: the TLS stack that answered the device's handshake and what it
   * was asked (a Node client sends no alert where mbedTLS does, so the server record depends on it).
   */
  readonly virtualTls?: {
    readonly engine: string;
    readonly engineNote: string;
    readonly verifyFlags: number | null;
    readonly reason: string | null;
    readonly sni: string | null;
    readonly checkName: string | null;
    readonly unsupported: readonly string[];
  } | null;
  /** sessions:: cases only: the two connections to one server, first and second. */
  readonly session?: {
    readonly second: 'same-chain' | 'refused-chain';
    readonly connections: readonly [SessionConnectionSeen, SessionConnectionSeen];
  };
  readonly startedAt: string;
  readonly endedAt: string;
}

/** One connection of a sessions case: what its ClientHello offered to resume and what it got. */
export interface SessionConnectionSeen {
  readonly outcome: CaseOutcome;
  readonly reason: string;
  /** How the ClientHello asked to resume: a ticket (its bytes), the session id this server issued, a TLS 1.3 PSK. */
  readonly offered: {
    readonly ticketBytes: number | null;
    readonly knownSessionId: boolean;
    readonly psk: boolean;
  } | null;
  /** The server resumed the session (no Certificate sent). Null: nothing showed it. */
  readonly resumed: boolean | null;
  readonly version: string | null;
  /** DER bytes of the chain the server sent on this connection (TLS ≤ 1.2; null when none or encrypted). */
  readonly servedChainBytes: number | null;
  readonly clientAlert: string | null;
}
