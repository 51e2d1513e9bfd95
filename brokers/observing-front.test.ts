import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ObservingFront, startObservingFront } from './observing-front.ts';

/** An upstream that accepts and keeps every connection until told, so the test decides who closes. */
async function holdingUpstream(): Promise<{ port: number; sockets: net.Socket[]; close(): Promise<void> }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.resume(); // read (and drop) what arrives, so the client's FIN is seen
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const connect = (port: number) =>
  new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });

describe('observing front settle', () => {
  let front: ObservingFront | null = null;
  let upstream: Awaited<ReturnType<typeof holdingUpstream>> | null = null;
  afterEach(async () => {
    await front?.close();
    await upstream?.close();
  });

  it('resolves when the last open connection closes, with the record finished, long before its bound', async () => {
    upstream = await holdingUpstream();
    front = await startObservingFront({
      engine: 'aedes',
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { host: '127.0.0.1', port: upstream.port },
    });
    const client = await connect(front.listenPort);
    client.write('not a TLS record\r\n');
    let settled = false;
    const settling = front.settle(60_000).then(() => {
      settled = true;
    });
    // Still open: settle must not have resolved on its own.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    expect(front.observations()[0]?.closedAt).toBeNull();
    client.destroy();
    await settling;
    expect(front.observations()[0]?.closedAt).not.toBeNull();
  });

  it('returns at its bound when a connection stays open, leaving that record unfinished', async () => {
    upstream = await holdingUpstream();
    front = await startObservingFront({
      engine: 'aedes',
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { host: '127.0.0.1', port: upstream.port },
    });
    const client = await connect(front.listenPort);
    await front.settle(50);
    expect(front.observations()[0]?.closedAt).toBeNull();
    client.destroy();
  });

  it('resolves at once when nothing is open', async () => {
    upstream = await holdingUpstream();
    front = await startObservingFront({
      engine: 'aedes',
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { host: '127.0.0.1', port: upstream.port },
    });
    await front.settle(60_000);
    expect(front.observations()).toEqual([]);
  });
});
