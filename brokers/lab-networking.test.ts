import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedesTlsEndpoint } from './aedes-tls.ts';
import type { EndpointHandle } from './endpoint.ts';
import { buildLabPki, type LabPki } from './testing/lab-pki.ts';
import { startTlsEchoEndpoint } from './tls-echo.ts';

let pki: LabPki;
beforeAll(async () => {
  pki = await buildLabPki();
});
const config = () => ({ chainPem: pki.leafPem + pki.intermediatePem, keyPem: pki.leafKeyPem });

/** A port that is free now, found by binding and releasing it. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * A free port below the kernel's ephemeral range (Linux: from 32768), so that no socket another
 * test opens on port 0 can take it between this check and the endpoint's bind.
 */
async function freePoolPort(): Promise<number> {
  for (let port = 20_000 + Math.floor(Math.random() * 10_000), tries = 0; tries < 50; tries++, port++) {
    const s = net.createServer();
    const bound = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.listen(port, '127.0.0.1', () => r(true));
    });
    if (bound) {
      await new Promise<void>((r) => s.close(() => r()));
      return port;
    }
  }
  throw new Error('no free port between 20000 and 30050');
}

function handshake(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host, port, ca: pki.rootPem, servername: 'broker.test' });
    s.once('secureConnect', () => {
      s.end();
      resolve('ok');
    });
    s.once('error', (err) => resolve(err.message));
  });
}

describe('lab networking', () => {
  it('runs endpoints one after another on one fixed port', async () => {
    const port = await freePort();
    for (let i = 0; i < 3; i++) {
      const ep = await startAedesTlsEndpoint({ ...config(), listenPort: port });
      expect(ep.listenPort).toBe(port);
      expect(await handshake(port)).toBe('ok');
      await ep.settle(2_000);
      expect(ep.observations()).toHaveLength(1);
      await ep.stop();
    }
  });

  it('runs endpoints side by side on several ports, each with its own record', async () => {
    const eps = await Promise.all([startAedesTlsEndpoint(config()), startAedesTlsEndpoint(config())]);
    try {
      expect(eps[0]?.listenPort).not.toBe(eps[1]?.listenPort);
      await handshake(eps[0]?.listenPort ?? 0);
      await handshake(eps[1]?.listenPort ?? 0);
      await handshake(eps[1]?.listenPort ?? 0);
      await Promise.all(eps.map((e) => e.settle(2_000)));
      expect(eps.map((e) => e.observations().length)).toEqual([1, 2]);
    } finally {
      await Promise.all(eps.map((e) => e.stop()));
    }
  });

  it('takes the first free port of a pool and says so when the pool is exhausted', async () => {
    const a = await freePoolPort();
    const b = await freePoolPort().then((p) => (p === a ? freePoolPort() : p));
    const first = await startAedesTlsEndpoint({ ...config(), listenPortPool: [a, b] });
    let second: EndpointHandle | null = null;
    try {
      expect(first.listenPort).toBe(a);
      second = await startAedesTlsEndpoint({ ...config(), listenPortPool: [a, b] });
      expect(second.listenPort).toBe(b);
      await expect(startAedesTlsEndpoint({ ...config(), listenPortPool: [a, b] })).rejects.toThrow(
        /no free port in the pool on 127.0.0.1 \(tried/,
      );
    } finally {
      await first.stop();
      await second?.stop();
    }
  });

  it('reports a taken fixed port clearly', async () => {
    const ep = await startAedesTlsEndpoint(config());
    try {
      await expect(startAedesTlsEndpoint({ ...config(), listenPort: ep.listenPort })).rejects.toThrow(
        `cannot listen on 127.0.0.1:${ep.listenPort}: EADDRINUSE`,
      );
    } finally {
      await ep.stop();
    }
  });

  it('listens on another loopback address and advertises the address a remote device dials', async () => {
    const ep = await startAedesTlsEndpoint({
      ...config(),
      listenHost: '127.0.0.2',
      advertisedHost: 'lab.example.net',
      advertisedPort: 443,
    });
    try {
      expect(ep.listenHost).toBe('127.0.0.2');
      expect(ep.advertisedHost).toBe('lab.example.net');
      expect(ep.advertisedPort).toBe(443);
      expect(await handshake(ep.listenPort, '127.0.0.2')).toBe('ok');
      await ep.settle(2_000);
      expect(ep.observations()[0]?.remote).toMatch(/^127\.0\.0\.1:/);
    } finally {
      await ep.stop();
    }
  });

  it('advertises the listen address when nothing else is configured', async () => {
    const ep = await startAedesTlsEndpoint(config());
    await ep.stop();
    expect([ep.advertisedHost, ep.advertisedPort]).toEqual(['127.0.0.1', ep.listenPort]);
  });
});

describe('raw TLS echo endpoint (AT+QSSLOPEN sockets)', () => {
  let ep: EndpointHandle;
  beforeAll(async () => {
    ep = await startTlsEchoEndpoint(config());
  });
  afterAll(async () => {
    await ep.stop();
  });

  it('echoes what the client sends and records it, with the same TLS record', async () => {
    const echoed = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({
        host: '127.0.0.1',
        port: ep.listenPort,
        ca: pki.rootPem,
        servername: 'broker.test',
      });
      let got = '';
      s.once('secureConnect', () => s.write('AT-socket hello\r\n'));
      s.on('data', (d: Buffer) => {
        got += d.toString();
        if (got.endsWith('\r\n')) s.end();
      });
      s.once('end', () => resolve(got));
      s.once('error', reject);
    });
    expect(echoed).toBe('AT-socket hello\r\n');
    await ep.settle(2_000);
    const o = ep.observations().at(-1);
    expect(o?.engine).toBe('tls-echo');
    expect(o?.handshake).toBe('completed');
    expect(o?.clientHello?.sni).toBe('broker.test');
    expect(o?.plainData).toEqual({ bytes: 17, firstBytes: 'AT-socket hello\r\n' });
    expect(o?.mqttConnect).toBeNull();
    expect(o?.closedBy).toBe('client');
  });

  it('records a plain-TCP client as not TLS', async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect(ep.listenPort, '127.0.0.1', () => s.write('GET / HTTP/1.0\r\n\r\n'));
      s.on('data', () => {});
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    await ep.settle(2_000);
    const o = ep.observations().at(-1);
    expect(o?.handshake).toBe('not-tls');
    expect(o?.clientHelloError).toMatch(/^not TLS \(first byte 0x47\)/);
  });

  it('refuses SNI routing, which needs an MQTT CONNECT', async () => {
    await expect(
      startTlsEchoEndpoint({ ...config(), sniRouting: { hostname: 'broker.test' } }),
    ).rejects.toThrow(/sniRouting acts on MQTT CONNECT/);
  });
});
