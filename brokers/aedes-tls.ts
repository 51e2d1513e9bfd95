import type tls from 'node:tls';
import { Aedes, type Client } from 'aedes';
import {
  type EndpointConfig,
  type EndpointHandle,
  frontListen,
  resolveAddresses,
  type SharedEndpointHandle,
} from './endpoint.ts';
import { startNodeTlsEngine } from './node-tls-engine.ts';
import type { ConnectionObservation } from './observation.ts';
import { type ObservingFront, startObservingFront } from './observing-front.ts';

const now = () => new Date().toISOString();

/** Whether SNI routing lets this connection's CONNECT through; the reason when it does not. */
export function sniRoutingRefusal(config: EndpointConfig, servername: string | null): string | null {
  const routing = config.sniRouting;
  if (!routing) return null;
  if (servername === routing.hostname) return null;
  if (servername === null && routing.allowMissingSni) return null;
  return servername === null
    ? `SNI routing: no SNI, expected ${routing.hostname}; closed on CONNECT`
    : `SNI routing: SNI ${servername} is not ${routing.hostname}; closed on CONNECT`;
}

/**
 * aedes served over Node `tls` in-process, behind the observing front (ClientHello, record layer,
 * who closed). The default endpoint: it needs nothing installed and starts in milliseconds.
 */
export async function startAedesTlsEndpoint(config: EndpointConfig): Promise<SharedEndpointHandle> {
  const aedes = await Aedes.createBroker();
  const byTlsSocket = new WeakMap<object, ConnectionObservation>();
  let lookup: (port: number) => ConnectionObservation | undefined = () => undefined;

  const engine = await startNodeTlsEngine(
    config,
    (port) => lookup(port),
    (socket: tls.TLSSocket, obs) => {
      if (obs) byTlsSocket.set(socket, obs);
      socket.on('error', () => {}); // a client vanishing mid-MQTT is recorded by the front
      aedes.handle(socket);
    },
  );

  aedes.preConnect = (client: Client, packet, done) => {
    const obs = byTlsSocket.get(client.conn);
    if (obs) {
      obs.mqttConnect = {
        clientId: packet.clientId,
        protocolLevel: packet.protocolVersion ?? 0,
        at: now(),
        username: packet.username ?? null,
      };
    }
    const refusal = sniRoutingRefusal(config, obs?.servername ?? null);
    if (refusal) {
      if (obs) obs.serverClosedReason = refusal;
      // AWS IoT drops the TCP connection without a CONNACK.
      (client.conn as tls.TLSSocket).destroy();
      done(new Error(refusal), false);
      return;
    }
    done(null, true);
  };
  aedes.on('publish', (packet, client) => {
    if (!client) return; // broker-internal ($SYS) messages
    const obs = byTlsSocket.get(client.conn);
    obs?.mqttPublishes.push({ topic: packet.topic, payload: packet.payload.toString('utf8'), at: now() });
  });

  let front: ObservingFront;
  try {
    front = await startObservingFront({
      engine: 'aedes',
      listen: frontListen(config),
      upstream: { host: '127.0.0.1', port: engine.port },
      ...(config.serverHelloTamper ? { tamperServerHello: config.serverHelloTamper } : {}),
    });
  } catch (err) {
    await engine.close();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }
  const doors = new Set<ObservingFront>();
  lookup = (port) => {
    const seen = front.byUpstreamPort(port);
    if (seen) return seen;
    for (const door of doors) {
      const onDoor = door.byUpstreamPort(port);
      if (onDoor) return onDoor;
    }
    return undefined;
  };

  return {
    ...resolveAddresses(config, front.listenPort),
    engine: 'aedes',
    notes: engine.notes,
    observations: () => front.observations(),
    settle: (ms) => front.settle(ms),
    serveChain: (chainPem, keyPem) => engine.serveChain(chainPem, keyPem),
    async listenAgain(): Promise<EndpointHandle> {
      const door = await startObservingFront({
        engine: 'aedes',
        listen: { host: frontListen(config).host, port: 0 },
        upstream: { host: '127.0.0.1', port: engine.port },
        ...(config.serverHelloTamper ? { tamperServerHello: config.serverHelloTamper } : {}),
      });
      doors.add(door);
      return {
        listenHost: door.listenHost,
        listenPort: door.listenPort,
        engine: 'aedes',
        notes: engine.notes,
        observations: () => door.observations(),
        settle: (ms) => door.settle(ms),
        async stop() {
          doors.delete(door);
          await door.close();
        },
      };
    },
    async stop() {
      await Promise.all([front.close(), ...[...doors].map((d) => d.close())]);
      doors.clear();
      await engine.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}
