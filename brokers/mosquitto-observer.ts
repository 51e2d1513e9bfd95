import mqtt from 'mqtt';
import type { MosquittoLogEvent } from './mosquitto-log.ts';
import { classifyOpensslReason } from './mosquitto-log.ts';
import type { ConnectionObservation } from './observation.ts';
import type { ObservingFront } from './observing-front.ts';

/**
 * What Mosquitto's log cannot tell, stated in every record it serves. The front's record-layer tap
 * and the observer subscriber fill part of it; these remain.
 */
export const MOSQUITTO_GAPS: readonly string[] = [
  'negotiated cipher and version come from the ServerHello on the wire, not from the broker',
  'a TLS 1.3 client alert is known only by its OpenSSL reason text in the log, mapped back to a number',
  'a server alert in TLS 1.3 is inferred from the logged reason (encrypted on the wire)',
  'the SNI the broker resolved is not logged (Mosquitto ignores SNI); the ClientHello still has it',
  'with use_identity_as_username the client certificate is known by CN only once TLS 1.3 hides the chain',
  'log lines without a port ("Client <unknown> …", "OpenSSL Error") go to the latest connection still in its handshake: concurrent failing handshakes can be swapped',
];

const OBSERVER_PREFIX = 'trustlab-observer-';

interface Pending {
  readonly obs: ConnectionObservation;
  state: 'tls' | 'mqtt' | 'done';
}

/** A PUBLISH the log announced whose payload the observer subscriber has not delivered yet. */
interface AwaitingPayload {
  readonly obs: ConnectionObservation;
  readonly topic: string;
  readonly bytes: number;
  readonly at: string;
}

/**
 * Applies Mosquitto log events to the front's observations. Connections are matched by the relay's
 * port ("New connection from 127.0.0.1:<port>"), or in arrival order where the broker sees another
 * port (a container behind Docker's proxy).
 */
export class MosquittoLogApplier {
  private readonly connections: Pending[] = [];
  private readonly byClientId = new Map<string, Pending>();
  private readonly awaiting: AwaitingPayload[] = [];
  private readonly delivered: { topic: string; payload: Buffer }[] = [];
  private matchedInOrder = 0;

  constructor(
    private readonly front: ObservingFront,
    private readonly tlsListenerPort: number,
    private readonly correlate: 'port' | 'order',
  ) {}

  apply(event: MosquittoLogEvent): void {
    switch (event.kind) {
      case 'new-connection': {
        if (event.listenerPort !== this.tlsListenerPort) return;
        const obs =
          this.correlate === 'port'
            ? this.front.byUpstreamPort(event.remotePort)
            : this.front.observations()[this.matchedInOrder++];
        if (obs) this.connections.push({ obs, state: 'tls' });
        return;
      }
      case 'openssl-error': {
        const p = this.latestInHandshake();
        if (p) this.applyTlsError(p.obs, event.reason);
        return;
      }
      case 'client-connected': {
        if (event.clientId.startsWith(OBSERVER_PREFIX)) return;
        const p =
          this.correlate === 'port'
            ? this.connections.find((c) => c.obs === this.front.byUpstreamPort(event.remotePort))
            : this.latestInHandshake();
        if (!p) return;
        p.state = 'mqtt';
        this.byClientId.set(event.clientId, p);
        const o = p.obs;
        o.mqttConnect = {
          clientId: event.clientId,
          protocolLevel: event.protocolLevel,
          at: new Date().toISOString(),
          username: event.username,
        };
        // A CONNECT got through, so the handshake completed whatever the wire could show.
        if (o.handshake === 'pending' || o.handshake === 'closed-without-alert') o.handshake = 'completed';
        if (!o.negotiated && o.wire.serverHello) o.negotiated = o.wire.serverHello;
        if (event.username !== null && !o.clientCertificate) {
          const wireLeaf = o.wire.clientChain?.[0];
          o.clientCertificate = wireLeaf
            ? { ...wireLeaf, verified: true, verifyError: null, source: 'wire' }
            : {
                subject: `CN=${event.username}`,
                issuer: '(not in the log)',
                sha256: '',
                verified: true,
                verifyError: null,
                source: 'broker-log',
              };
        }
        return;
      }
      case 'publish': {
        const p = this.byClientId.get(event.clientId);
        if (!p) return;
        this.awaiting.push({
          obs: p.obs,
          topic: event.topic,
          bytes: event.bytes,
          at: new Date().toISOString(),
        });
        this.matchPayloads();
        return;
      }
      case 'disconnected': {
        const p = event.clientId ? this.byClientId.get(event.clientId) : this.latestInHandshake();
        if (p) p.state = 'done';
        return;
      }
      default:
        return;
    }
  }

  /** A message the observer subscriber received on the broker's plain listener. */
  observed(topic: string, payload: Buffer): void {
    this.delivered.push({ topic, payload });
    this.matchPayloads();
  }

  /** Whether every connection the front closed has reached a final line in the log. */
  caughtUp(): boolean {
    const closed = this.front.observations().filter((o) => o.closedAt !== null);
    const known = (o: ConnectionObservation) => this.connections.find((c) => c.obs === o);
    return (
      closed.every((o) => known(o)?.state === 'done' || known(o)?.state === 'mqtt') &&
      this.awaiting.length === 0
    );
  }

  /** Records PUBLISHes whose payload never reached the observer, with an empty payload and a gap. */
  flushUnmatched(): void {
    for (const a of this.awaiting.splice(0)) {
      a.obs.mqttPublishes.push({ topic: a.topic, payload: '', at: a.at });
      a.obs.gaps.push(`payload of the PUBLISH to ${a.topic} was not seen by the observer subscriber`);
    }
  }

  private latestInHandshake(): Pending | undefined {
    return this.connections.findLast((c) => c.state === 'tls');
  }

  private applyTlsError(o: ConnectionObservation, reason: string): void {
    const verdict = classifyOpensslReason(reason, o.wire.serverHello?.version ?? null);
    if ('clientAlert' in verdict) {
      o.clientAlert ??= verdict.clientAlert;
      o.clientAlertSource ??= 'broker-log';
      o.closedBy = 'client';
      if (o.handshake === 'pending' || o.handshake === 'closed-without-alert') o.handshake = 'client-alert';
      return;
    }
    o.serverError ??= verdict.error;
    if (verdict.serverAlert && !o.serverAlert) {
      o.serverAlert = verdict.serverAlert;
      o.serverAlertSource = 'inferred';
    }
    if (o.handshake === 'pending' || o.handshake === 'closed-without-alert') {
      o.handshake = /wrong version number/.test(reason) ? 'not-tls' : 'server-error';
    }
  }

  private matchPayloads(): void {
    for (let i = 0; i < this.awaiting.length; ) {
      const a = this.awaiting[i] as AwaitingPayload;
      const j = this.delivered.findIndex((d) => d.topic === a.topic && d.payload.length === a.bytes);
      if (j < 0) {
        i++;
        continue;
      }
      const [d] = this.delivered.splice(j, 1);
      this.awaiting.splice(i, 1);
      a.obs.mqttPublishes.push({ topic: a.topic, payload: d?.payload.toString('utf8') ?? '', at: a.at });
    }
  }
}

/** Subscribes to every topic on the broker's plain observer listener to learn PUBLISH payloads. */
export async function startPayloadObserver(
  host: string,
  port: number,
  applier: MosquittoLogApplier,
): Promise<mqtt.MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://${host}:${port}`, {
    clientId: `${OBSERVER_PREFIX}${process.pid}`,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
  client.on('message', (topic, payload) => applier.observed(topic, payload));
  await client.subscribeAsync('#', { qos: 2 });
  return client;
}
