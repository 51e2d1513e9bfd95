import net from 'node:net';
import { parseClientHello } from './client-hello.ts';
import { closeServer, type ListenSpec, listenOn } from './listen.ts';
import { type ConnectionObservation, type EngineName, newObservation } from './observation.ts';
import { type ServerHelloTamper, tamperServerHello } from './server-hello-tamper.ts';
import { encodeRecord, RecordSplitter, refragmentHandshake, WireTap } from './wire-tap.ts';

const HANDSHAKE_RECORD = 22;
const MAX_RECORD_PAYLOAD = 16_384;

/** A ClientHello larger than this is not waited for further. */
const MAX_HELLO_BYTES = 64 * 1024;

export interface FrontOptions {
  readonly engine: EngineName;
  readonly listen: ListenSpec;
  /** Where the engine's TLS listener is; every client connection is relayed there. */
  readonly upstream: { readonly host: string; readonly port: number };
  /** Re-cut the server's plaintext handshake records to this size (engines that cannot do it). */
  readonly refragmentHandshake?: number | null;
  /** Change the server's ServerHello on its way to the client (a ServerHello no engine sends). */
  readonly tamperServerHello?: ServerHelloTamper;
  /** Facts the engine can never provide, copied into every observation's `gaps`. */
  readonly gaps?: readonly string[];
}

export interface ObservingFront {
  readonly listenHost: string;
  readonly listenPort: number;
  observations(): ConnectionObservation[];
  /** The observation whose relay connection to the engine has this local port. */
  byUpstreamPort(port: number): ConnectionObservation | undefined;
  /** Resolves once every connection has closed or the time is up. */
  settle(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The observing front every endpoint sits behind: a plain TCP relay on the listen address that
 * reads the bytes both ways at the TLS record layer (ClientHello before TLS sees it, ServerHello,
 * plaintext alerts and certificates, record sizes) and records who closed first. Relaying rather
 * than peeking gives the same record for in-process and external engines.
 */
export async function startObservingFront(options: FrontOptions): Promise<ObservingFront> {
  const all: ConnectionObservation[] = [];
  const byPort = new Map<number, ConnectionObservation>();
  const open = new Set<net.Socket>();
  let stopping = false;
  let nextId = 1;
  // Callers of settle(): told when the last open connection has been finalized.
  const settleWaiters = new Set<() => void>();
  const allClosed = () => all.every((o) => o.closedAt !== null);

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const obs = newObservation(nextId++, options.engine, `${client.remoteAddress}:${client.remotePort}`);
    obs.gaps.push(...(options.gaps ?? []));
    all.push(obs);
    const tap = new WireTap(obs);
    let hello = Buffer.alloc(0);
    let helloDone = false;
    const upstream = net.connect({
      host: options.upstream.host,
      port: options.upstream.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    open.add(client);
    open.add(upstream);
    client.pause();

    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      if (upstream.localPort !== undefined) byPort.set(upstream.localPort, obs);
      client.resume();
    });

    client.on('data', (chunk: Buffer) => {
      if (!helloDone) {
        hello = Buffer.concat([hello, chunk]);
        const parsed = parseClientHello(hello);
        if (parsed.status !== 'incomplete' || hello.length >= MAX_HELLO_BYTES) {
          helloDone = true;
          if (parsed.status === 'ok') obs.clientHello = parsed.hello;
          else if (parsed.status === 'not-tls')
            obs.clientHelloError = `not TLS (first byte 0x${parsed.firstByte.toString(16)})`;
          else if (parsed.status === 'malformed') obs.clientHelloError = parsed.reason;
          else obs.clientHelloError = `ClientHello larger than ${MAX_HELLO_BYTES} bytes`;
          hello = Buffer.alloc(0);
        }
      }
      if (obs.clientHelloError?.startsWith('not TLS')) obs.wire.fromClient.bytes += chunk.length;
      else tap.fromClient(chunk);
      upstream.write(chunk);
    });

    const fragment = options.refragmentHandshake ?? null;
    const tamper = options.tamperServerHello ?? null;
    // When re-cutting or tampering, the tap reads the bytes sent on: the record describes what the client received.
    const recut = fragment || tamper ? new RecordSplitter() : null;
    upstream.on('data', (chunk: Buffer) => {
      if (!recut) {
        tap.fromServer(chunk);
        client.write(chunk);
        return;
      }
      for (const received of recut.push(chunk)) {
        let record = received;
        if (tamper && obs.serverHelloTampered === null && record.type === HANDSHAKE_RECORD) {
          const changed = tamperServerHello(record.payload, tamper, obs.clientHello);
          if (changed) {
            obs.serverHelloTampered = changed.change;
            record = { ...record, payload: changed.payload };
          }
        }
        // A grown record is cut again at the record limit (2^14) so it stays well formed.
        const cut = fragment ?? (record.payload.length > MAX_RECORD_PAYLOAD ? MAX_RECORD_PAYLOAD : null);
        const pieces =
          tap.serverEncrypting || cut === null
            ? [encodeRecord(record.type, record.version, record.payload)]
            : refragmentHandshake(record, cut);
        for (const piece of pieces) {
          tap.fromServer(piece);
          client.write(piece);
        }
      }
    });

    // A FIN travels on to the other side; the first side to send one (or reset) closed the connection.
    client.on('end', () => {
      obs.closedBy ??= stopping ? 'server' : 'client';
      upstream.end();
    });
    upstream.on('end', () => {
      obs.closedBy ??= 'server';
      client.end();
    });
    client.on('error', () => {
      obs.closedBy ??= stopping ? 'server' : 'client';
      upstream.destroy();
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) {
        obs.handshake = 'server-error';
        obs.serverError = `engine unreachable at ${options.upstream.host}:${options.upstream.port}: ${err.code ?? err.message}`;
      }
      obs.closedBy ??= 'server';
      client.destroy();
    });
    let closed = 0;
    const onClose = () => {
      if (++closed < 2) return;
      open.delete(client);
      open.delete(upstream);
      // Let the engine's own close handlers (same tick) record what they know first.
      setImmediate(() => {
        finalize(obs);
        if (allClosed()) for (const wake of [...settleWaiters]) wake();
      });
    };
    client.once('close', () => {
      if (!upstream.destroyed && client.readableEnded === false) upstream.destroy();
      onClose();
    });
    upstream.once('close', () => {
      if (!client.writableEnded) client.end();
      onClose();
    });
  });

  const listenPort = await listenOn(server, options.listen);

  return {
    listenHost: options.listen.host,
    listenPort,
    observations: () => all,
    byUpstreamPort: (port) => byPort.get(port),
    settle(timeoutMs) {
      if (allClosed()) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          settleWaiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, timeoutMs);
        settleWaiters.add(wake);
      });
    },
    async close() {
      stopping = true;
      for (const socket of open) socket.destroy();
      await closeServer(server);
    },
  };
}

/** Fills what the engine left open from what the wire showed, then stamps the close. */
function finalize(obs: ConnectionObservation): void {
  if (obs.handshake === 'pending') {
    if (obs.clientHelloError?.startsWith('not TLS')) obs.handshake = 'not-tls';
    else if (obs.clientAlert) obs.handshake = 'client-alert';
    else if (obs.wire.handshakeCompleteSeen) obs.handshake = 'completed';
    else if (obs.serverAlert) obs.handshake = 'server-error';
    else obs.handshake = 'closed-without-alert';
  }
  if (!obs.negotiated && obs.handshake === 'completed' && obs.wire.serverHello) {
    obs.negotiated = obs.wire.serverHello;
  }
  // A client's fatal alert ends the connection even when the server's FIN reached the front first.
  if (obs.clientAlert && obs.clientAlert.number !== 0) obs.closedBy = 'client';
  obs.closedBy ??= 'unknown';
  obs.closedAt = new Date().toISOString();
}
