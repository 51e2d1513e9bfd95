import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPki, type PkiHierarchy } from '../../certs/build.ts';
import { pemCertificates } from '../../certs/pem.ts';
import { standardSpec } from '../../certs/pki-spec.ts';
import { startLimitRelay } from './receive-limit.ts';

let pki: PkiHierarchy;
let server: tls.Server;
let port = 0;

beforeAll(async () => {
  const spec = standardSpec({ name: 'relay', keyType: 'p256', dialledHost: 'broker.test', intermediates: 1 });
  pki = await buildPki({
    ...spec,
    certs: spec.certs.map((c) => (c.ref === 'leaf' ? { ...c, padToBytes: 5000 } : c)),
  });
  server = tls.createServer({ cert: pki.servedChainPem, key: pki.serverKeyPem, maxVersion: 'TLSv1.2' }, (s) =>
    s.end('hello'),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A TLS 1.2 client through the relay: 'connected' or the error it met. */
function dialThrough(relayPort: number): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port: relayPort,
      servername: 'broker.test',
      ca: pki.anchorsPem ?? '',
      maxVersion: 'TLSv1.2',
    });
    s.once('secureConnect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e) => resolve(e.message));
    s.once('close', () => resolve('closed'));
  });
}

const chainBytes = () =>
  pemCertificates(pki.servedChainPem).reduce((n, p) => n + new X509Certificate(p).raw.length, 0);

describe('the modelled TLS receive limit (virtual nRF91)', () => {
  it('drops a server chain over the limit before the client sees it, and says how big it was', async () => {
    const relay = await startLimitRelay({ address: '127.0.0.1', port }, { serverChainBytes: 4096 });
    const got = await dialThrough(relay.port);
    relay.close();
    expect(got).not.toBe('connected');
    expect(relay.outcome()).toEqual({ servedChainBytes: chainBytes(), exceeded: true });
    expect(chainBytes()).toBeGreaterThan(5000);
  });

  it('passes every byte of a chain within the limit: the handshake completes and the size is recorded', async () => {
    const relay = await startLimitRelay({ address: '127.0.0.1', port }, { serverChainBytes: 8192 });
    expect(await dialThrough(relay.port)).toBe('connected');
    relay.close();
    expect(relay.outcome()).toEqual({ servedChainBytes: chainBytes(), exceeded: false });
  });
});
