import { connect, createServer, type Server, type Socket } from 'node:net';
import { listenOn } from '../../brokers/listen.ts';
import { certificateLengths, DirectionTap, HS_CERTIFICATE, RecordSplitter } from '../../brokers/wire-tap.ts';

/**
 * What a modem's TLS receive path can hold: the DER bytes of the server's certificates in one
 * Certificate message (TLS ≤ 1.2, where it travels in the clear). A Nordic engineer put the
 * nRF9160's at 4 kB, and a 5,279-byte chain crashed one; the virtual nRF91 models that limit.
 */
export interface ReceiveLimits {
  readonly serverChainBytes: number;
}

/**
 * How a virtual modem models its limit: the bytes (null: none) and what happens past it — the
 * connection dropped, or the modem restarting (one nRF9160 crashed on a 5,279-byte chain).
 */
export interface ReceiveLimitModel {
  readonly serverChainBytes: number | null;
  readonly past: 'drop' | 'reboot';
}

/** What the limit did to one connection: null until the server's chain was seen. */
export interface LimitOutcome {
  readonly servedChainBytes: number;
  readonly exceeded: boolean;
}

export interface LimitRelay {
  /** Where the TLS client dials instead of the server (loopback). */
  readonly port: number;
  /** The chain the server sent and whether it overflowed; null when no Certificate was seen. */
  outcome(): LimitOutcome | null;
  /** Drops the relay and its connection (after a failed handshake; a live session closes itself). */
  close(): void;
}

/**
 * A one-connection relay between the modem's TLS client and the server that passes every byte
 * unchanged until the server's Certificate message is complete; a chain over the limit is never
 * delivered and both sockets are dropped (the model's stand-in for a modem that gives up, without
 * an alert). The client still sends its own SNI and checks the name it was given.
 */
export async function startLimitRelay(
  target: { address: string; port: number },
  limits: ReceiveLimits,
): Promise<LimitRelay> {
  let outcome: LimitOutcome | null = null;
  const sockets: Socket[] = [];
  const server: Server = createServer((client) => {
    server.close(); // one connection: the TLS client's
    sockets.push(client);
    const upstream = connect({ host: target.address, port: target.port });
    sockets.push(upstream);
    const records = new RecordSplitter();
    const handshake = new DirectionTap();
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('data', (chunk: Buffer) => {
      if (outcome === null) {
        for (const record of records.push(chunk)) {
          for (const m of handshake.take(record)) {
            if (m.type !== HS_CERTIFICATE) continue;
            const bytes = certificateLengths(m.body).reduce((a, b) => a + b, 0);
            outcome = { servedChainBytes: bytes, exceeded: bytes > limits.serverChainBytes };
          }
        }
      }
      if (outcome?.exceeded) drop();
      else client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.end());
    client.on('error', drop);
    upstream.on('error', drop);
  });
  const port = await listenOn(server, { host: '127.0.0.1' });
  return {
    port,
    outcome: () => outcome,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

/** The modem's words for a chain over its limit, as the attempt records it. */
export function limitReason(o: LimitOutcome, limits: ReceiveLimits): string {
  return `the server's certificate chain (${o.servedChainBytes} DER bytes) exceeds what the modem's TLS receive path holds (${limits.serverChainBytes} bytes): connection dropped without an alert`;
}
