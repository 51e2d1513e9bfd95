import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedesTlsEndpoint } from '../../../brokers/aedes-tls.ts';
import type { EndpointHandle } from '../../../brokers/endpoint.ts';
import type { ConnectionObservation } from '../../../brokers/observation.ts';
import type { ServerHelloTamper } from '../../../brokers/server-hello-tamper.ts';
import { type FixturePki, makePki } from '../fixtures/pki.ts';
import type { TlsEngineId } from './engine.ts';
import { engineAvailability, handshakeRequest } from './engine-testing.ts';
import { TLS_ENGINES } from './engines.ts';

const HOST = 'broker.test';
const availability = await engineAvailability();

const pkis: Partial<Record<ServerHelloTamper, FixturePki>> = {};
const endpoints: Partial<Record<ServerHelloTamper, EndpointHandle>> = {};
beforeAll(async () => {
  for (const tamper of ['downgrade-sentinel', 'unoffered-suite', 'unrequested-alpn'] as const) {
    // Static RSA for the sentinel: no ServerKeyExchange signature covers the random, so only the sentinel check can stop a client.
    const sentinel = tamper === 'downgrade-sentinel';
    const pki = await makePki(HOST, sentinel ? { rsaLeaf: true } : {});
    pkis[tamper] = pki;
    endpoints[tamper] = await startAedesTlsEndpoint({
      chainPem: pki.chainPem,
      keyPem: pki.keyPem,
      maxTlsVersion: 'TLSv1.2',
      ...(sentinel ? { ciphers: 'AES128-GCM-SHA256' } : {}),
      serverHelloTamper: tamper,
    });
  }
}, 30_000);
afterAll(async () => {
  for (const e of Object.values(endpoints)) await e.stop();
});

async function against(engine: TlsEngineId, tamper: ServerHelloTamper): Promise<ConnectionObservation> {
  const endpoint = endpoints[tamper] as EndpointHandle;
  const before = endpoint.observations().length;
  const req = handshakeRequest(endpoint.listenPort, HOST, (pkis[tamper] as FixturePki).rootPem);
  const r = await TLS_ENGINES[engine].handshake(req);
  // Never a completed handshake: the Finished MAC covers the changed ServerHello.
  expect(r.ok).toBe(false);
  await endpoint.settle(3_000);
  const o = endpoint.observations()[before] as ConnectionObservation;
  console.log(
    engine,
    tamper,
    r.ok ? '' : r.reason,
    o.handshake,
    o.serverHelloTampered,
    o.clientAlert,
    o.wire.clientKeyExchangeSeen,
    o.clientHello?.offeredVersions,
  );
  return o;
}

describe.each(Object.keys(TLS_ENGINES) as TlsEngineId[])(
  'a tampered ServerHello against engine %s',
  (engine) => {
    it('a cipher suite the client never offered: refused at the ServerHello, before any key exchange', async (ctx) => {
      const a = availability[engine];
      if (!a.ok) ctx.skip(`${engine} unavailable: ${a.reason}`);
      const seen = await against(engine, 'unoffered-suite');
      expect(seen.serverHelloTampered).toMatch(/not offered by the client/);
      expect(seen.wire.clientKeyExchangeSeen).toBe(false);
      // OpenSSL (and Node on it) say why; mbedTLS 2.28 and GnuTLS stop without an alert.
      expect(seen.clientAlert?.number ?? null).toBe(engine === 'node' || engine === 'openssl' ? 47 : null);
    });

    it('an ALPN protocol the client never asked for: refused at the ServerHello', async (ctx) => {
      const a = availability[engine];
      if (!a.ok) ctx.skip(`${engine} unavailable: ${a.reason}`);
      const seen = await against(engine, 'unrequested-alpn');
      expect(seen.serverHelloTampered).toMatch(/never asked for/);
      expect(seen.wire.clientKeyExchangeSeen).toBe(false);
    });

    it('the TLS 1.3 downgrade sentinel: a TLS 1.3 client stops at it, mbedTLS 2.28 (TLS 1.2 only) goes on', async (ctx) => {
      const a = availability[engine];
      if (!a.ok) ctx.skip(`${engine} unavailable: ${a.reason}`);
      const seen = await against(engine, 'downgrade-sentinel');
      expect(seen.serverHelloTampered).toMatch(/downgrade sentinel/);
      const offers13 = seen.clientHello?.offeredVersions.includes('TLSv1.3');
      expect(offers13).toBe(engine !== 'mbedtls');
      expect(seen.wire.clientKeyExchangeSeen).toBe(engine === 'mbedtls');
      // GnuTLS may close before its alert is on the wire; OpenSSL and Node always send illegal_parameter.
      if (engine === 'node' || engine === 'openssl') expect(seen.clientAlert?.number).toBe(47);
    });
  },
);
