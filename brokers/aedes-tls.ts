import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type Client } from 'aedes';
import { alertFromError } from './alerts.ts';
import { parseClientHello } from './client-hello.ts';
import type { EndpointConfig, EndpointHandle } from './endpoint.ts';
import type { ConnectionObservation } from './observation.ts';

/** A ClientHello larger than this is not waited for further; the TLS stack gets what arrived. */
const MAX_HELLO_BYTES = 64 * 1024;

const now = () => new Date().toISOString();

function newObservation(id: number, socket: net.Socket): ConnectionObservation {
  return {
    id,
    remote: `${socket.remoteAddress}:${socket.remotePort}`,
    openedAt: now(),
    closedAt: null,
    clientHello: null,
    clientHelloError: null,
    handshake: 'pending',
    negotiated: null,
    servername: null,
    clientAlert: null,
    serverError: null,
    mqttConnect: null,
    mqttPublishes: [],
    closedBy: null,
  };
}

/**
 * aedes served over Node `tls`, behind a plain `net` front that reads the ClientHello from the raw
 * bytes (Node has no API for what a client offered) and then hands the socket to the TLS server.
 */
export async function startAedesTlsEndpoint(config: EndpointConfig): Promise<EndpointHandle> {
  const listenHost = config.listenHost ?? '127.0.0.1';
  const aedes = await Aedes.createBroker();
  const byRawSocket = new Map<net.Socket, ConnectionObservation>();
  const byTlsSocket = new WeakMap<object, ConnectionObservation>();
  const all: ConnectionObservation[] = [];
  let stopping = false;
  let nextId = 1;

  const tlsServer = tls.createServer({ cert: config.chainPem, key: config.keyPem });

  tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
    const raw = (socket as unknown as { _parent: net.Socket })._parent;
    const obs = byRawSocket.get(raw);
    if (obs) {
      obs.handshake = 'completed';
      obs.servername = typeof socket.servername === 'string' ? socket.servername : null;
      const cipher = socket.getCipher();
      obs.negotiated = {
        version: socket.getProtocol() ?? 'unknown',
        cipher: cipher.standardName ?? cipher.name,
      };
      byTlsSocket.set(socket, obs);
    }
    socket.on('error', () => {}); // a client vanishing mid-MQTT is recorded through 'close'
    // FIN from the client before we closed means the client ended it.
    socket.once('end', () => {
      if (obs) obs.closedBy ??= 'client';
    });
    socket.once('close', () => {
      if (obs) obs.closedBy ??= 'server';
    });
    aedes.handle(socket);
  });

  tlsServer.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
    const raw = (socket as unknown as { _parent?: net.Socket })._parent;
    const obs = raw ? byRawSocket.get(raw) : undefined;
    if (obs?.handshake !== 'pending') return;
    const alert = alertFromError(err);
    const code = (err as NodeJS.ErrnoException).code;
    if (alert) {
      obs.handshake = 'client-alert';
      obs.clientAlert = alert;
      obs.closedBy = 'client';
    } else if (code === 'ECONNRESET' || /socket disconnected|ECONNRESET/.test(err.message)) {
      obs.handshake = 'closed-without-alert';
      obs.closedBy = 'client';
    } else if (obs.clientHelloError?.startsWith('not TLS')) {
      obs.handshake = 'not-tls';
      obs.serverError = code ?? err.message;
    } else {
      obs.handshake = 'server-error';
      obs.serverError = code ?? err.message;
      obs.closedBy = 'server';
    }
  });

  aedes.preConnect = (client: Client, packet, done) => {
    const obs = byTlsSocket.get(client.conn);
    if (obs) {
      obs.mqttConnect = { clientId: packet.clientId, protocolLevel: packet.protocolVersion ?? 0, at: now() };
    }
    done(null, true);
  };
  aedes.on('publish', (packet, client) => {
    if (!client) return; // broker-internal ($SYS) messages
    const obs = byTlsSocket.get(client.conn);
    obs?.mqttPublishes.push({ topic: packet.topic, payload: packet.payload.toString('utf8'), at: now() });
  });

  const front = net.createServer((raw) => {
    const obs = newObservation(nextId++, raw);
    all.push(obs);
    byRawSocket.set(raw, obs);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const parsed = parseClientHello(buffered);
      if (parsed.status === 'incomplete' && buffered.length < MAX_HELLO_BYTES) return;
      if (parsed.status === 'ok') obs.clientHello = parsed.hello;
      else if (parsed.status === 'not-tls')
        obs.clientHelloError = `not TLS (first byte 0x${parsed.firstByte.toString(16)})`;
      else if (parsed.status === 'malformed') obs.clientHelloError = parsed.reason;
      else obs.clientHelloError = `ClientHello larger than ${MAX_HELLO_BYTES} bytes`;
      raw.removeListener('data', onData);
      raw.pause();
      raw.unshift(buffered);
      tlsServer.emit('connection', raw);
    };
    raw.on('data', onData);
    raw.on('error', () => {});
    raw.on('close', () => {
      // The TLS socket's own 'end'/'close' fire after the raw socket's; let them say who closed first.
      setImmediate(() => {
        obs.closedBy ??= stopping ? 'server' : 'unknown';
        // A client that closed before its hello was complete never reached the TLS stack.
        if (obs.handshake === 'pending') obs.handshake = 'closed-without-alert';
        obs.closedAt = now();
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(config.listenPort ?? 0, listenHost, () => resolve());
  });
  const address = front.address() as net.AddressInfo;

  return {
    listenHost,
    listenPort: address.port,
    observations: () => all,
    async settle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (all.some((o) => o.closedAt === null) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      stopping = true;
      for (const raw of byRawSocket.keys()) raw.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      tlsServer.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}
