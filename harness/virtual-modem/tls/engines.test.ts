import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedesTlsEndpoint } from '../../../brokers/aedes-tls.ts';
import type { EndpointHandle } from '../../../brokers/endpoint.ts';
import type { ConnectionObservation } from '../../../brokers/observation.ts';
import { type FixturePki, makePki } from '../fixtures/pki.ts';
import { MqttSession } from '../mqtt-session.ts';
import type { TlsEngineId, TlsHandshakeRequest, TlsHandshakeResult } from './engine.ts';
import { engineAvailability, handshakeRequest } from './engine-testing.ts';
import { TLS_ENGINES } from './engines.ts';
import { MBEDTLS_FLAGS } from './mbedtls-engine.ts';

const HOST = 'broker.test';
const availability = await engineAvailability();

interface Served {
  pki: FixturePki;
  endpoint: EndpointHandle;
}
const served: Record<string, Served> = {};
const serve = async (name: string, pki: FixturePki) => {
  served[name] = {
    pki,
    endpoint: await startAedesTlsEndpoint({ chainPem: pki.chainPem, keyPem: pki.keyPem }),
  };
};

beforeAll(async () => {
  await serve('valid', await makePki(HOST));
  await serve('expired', await makePki(HOST, { leafValidDays: { from: -30, to: -1 } }));
  await serve('future', await makePki(HOST, { leafValidDays: { from: 10, to: 90 } }));
  await serve('rootNoBc', await makePki(HOST, { rootWithoutBasicConstraints: true }));
  await serve('rootNoKu', await makePki(HOST, { rootWithoutKeyUsage: true }));
}, 30_000);

afterAll(async () => {
  await Promise.all(Object.values(served).map((s) => s.endpoint.stop()));
});

function request(name: string, overrides: Partial<TlsHandshakeRequest> = {}): TlsHandshakeRequest {
  const s = served[name] as Served;
  return handshakeRequest(s.endpoint.listenPort, HOST, s.pki.rootPem, overrides);
}

async function handshake(engine: TlsEngineId, req: TlsHandshakeRequest): Promise<TlsHandshakeResult> {
  const r = await TLS_ENGINES[engine].handshake(req);
  if (r.ok) r.stream.destroy();
  return r;
}

/** The endpoint's record of the newest connection, once it has closed. */
async function lastSeen(name: string): Promise<ConnectionObservation> {
  const s = served[name] as Served;
  await s.endpoint.settle(3_000);
  return s.endpoint.observations().at(-1) as ConnectionObservation;
}

describe.each(Object.keys(TLS_ENGINES) as TlsEngineId[])('TLS engine %s', (engine) => {
  const skipUnless = (ctx: { skip: (reason: string) => void }) => {
    const a = availability[engine];
    if (!a.ok) ctx.skip(`${engine} unavailable: ${a.reason}`);
  };

  it('accepts the issuing root, sending the SNI it was given', async (ctx) => {
    skipUnless(ctx);
    const r = await handshake(engine, request('valid'));
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
    expect(r.engine).toBe(engine);
    expect((await lastSeen('valid')).clientHello?.sni).toBe(HOST);
  });

  it('rejects an unrelated root; a stack that alerts says so on the wire', async (ctx) => {
    skipUnless(ctx);
    const r = await handshake(
      engine,
      request('valid', { anchorsPem: served.valid?.pki.unrelatedRootPem ?? '' }),
    );
    expect(r.ok).toBe(false);
    const seen = await lastSeen('valid');
    const expectedAlert = { mbedtls: 48, openssl: 48, gnutls: 42, node: null }[engine];
    expect(seen.clientAlert?.number ?? null).toBe(expectedAlert);
    if (engine === 'mbedtls' && !r.ok) expect(r.verifyFlags).toBe(MBEDTLS_FLAGS.NOT_TRUSTED);
  });

  it('verifies nothing when verification is off', async (ctx) => {
    skipUnless(ctx);
    const r = await handshake(
      engine,
      request('valid', { verify: false, anchorsPem: served.valid?.pki.unrelatedRootPem ?? '' }),
    );
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
  });

  it('sends no SNI when told not to', async (ctx) => {
    skipUnless(ctx);
    const r = await handshake(engine, request('valid', { sni: null }));
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
    expect((await lastSeen('valid')).clientHello?.sni).toBeNull();
  });

  it('rejects a name that is not in the certificate', async (ctx) => {
    skipUnless(ctx);
    const r = await handshake(engine, request('valid', { checkName: 'other.test' }));
    expect(r.ok).toBe(false);
    if (engine === 'mbedtls' && !r.ok) expect(r.verifyFlags).toBe(MBEDTLS_FLAGS.CN_MISMATCH);
  });

  it('rejects an expired leaf, and accepts it when validity is ignored', async (ctx) => {
    skipUnless(ctx);
    expect((await handshake(engine, request('expired'))).ok).toBe(false);
    if (engine === 'gnutls') return; // gnutls-cli has no knob to ignore validity
    const ignored = await handshake(engine, request('expired', { ignoreValidity: true }));
    expect(ignored.ok, ignored.ok ? '' : ignored.reason).toBe(true);
  });

  it('judges validity against the device clock, not the host clock', async (ctx) => {
    skipUnless(ctx);
    if (engine === 'gnutls') ctx.skip('gnutls-cli cannot verify at a given time');
    const late = new Date(Date.now() + 200 * 86_400_000);
    const r = await handshake(engine, request('valid', { deviceTime: late }));
    expect(r.ok).toBe(false);
    const early = new Date(Date.now() + 30 * 86_400_000);
    const future = await handshake(engine, request('future', { deviceTime: early }));
    expect(future.ok, future.ok ? '' : future.reason).toBe(true);
  });

  it('carries application data both ways after the handshake (MQTT CONNECT → CONNACK)', async (ctx) => {
    skipUnless(ctx);
    const r = await TLS_ENGINES[engine].handshake(request('valid'));
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
    if (!r.ok) return;
    const session = new MqttSession(r.stream, 4);
    const ack = await session.connect(`engine-${engine}`, 5_000);
    expect(ack).toEqual({ ok: true, value: 0 });
    session.disconnect();
    expect((await lastSeen('valid')).mqttConnect?.clientId).toBe(`engine-${engine}`);
  });
});

describe('mbedTLS 2.28 verdicts match its documented behaviour', () => {
  const skipUnless = (ctx: { skip: (reason: string) => void }) => {
    if (!availability.mbedtls.ok) ctx.skip(`mbedtls unavailable: ${availability.mbedtls.reason}`);
  };

  it('refuses a trust anchor without BasicConstraints (NOT_TRUSTED), which OpenSSL accepts', async (ctx) => {
    skipUnless(ctx);
    const r = await handshake('mbedtls', request('rootNoBc'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.verifyFlags).toBe(MBEDTLS_FLAGS.NOT_TRUSTED);
    expect((await lastSeen('rootNoBc')).clientAlert?.number).toBe(48);
    if (availability.openssl.ok) expect((await handshake('openssl', request('rootNoBc'))).ok).toBe(true);
  });

  it('accepts a trust anchor without KeyUsage', async (ctx) => {
    skipUnless(ctx);
    const r = await handshake('mbedtls', request('rootNoKu'));
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
  });

  it('checks no name at all when no hostname was ever set (2.28 before 2.28.10)', async (ctx) => {
    skipUnless(ctx);
    const r = await handshake('mbedtls', request('valid', { sni: null, checkName: null }));
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
  });

  it('checks a name different from the SNI it sent', async (ctx) => {
    skipUnless(ctx);
    const r = await handshake('mbedtls', request('valid', { sni: 'sni-only.test', checkName: HOST }));
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
    expect((await lastSeen('valid')).clientHello?.sni).toBe('sni-only.test');
    const wrong = await handshake('mbedtls', request('valid', { sni: HOST, checkName: 'other.test' }));
    expect(wrong.ok).toBe(false);
  });

  it('sends certificate_unknown (46) for a not-yet-valid leaf and certificate_expired (45) for an expired one', async (ctx) => {
    skipUnless(ctx);
    await handshake('mbedtls', request('future'));
    expect((await lastSeen('future')).clientAlert?.number).toBe(46);
    await handshake('mbedtls', request('expired'));
    expect((await lastSeen('expired')).clientAlert?.number).toBe(45);
  });

  it('offers only the cipher suites asked for', async (ctx) => {
    skipUnless(ctx);
    const r = await handshake('mbedtls', request('valid', { cipherSuites: [0xc009] }));
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
    expect((await lastSeen('valid')).clientHello?.cipherSuites.filter((c) => c !== 0xff)).toEqual([0xc009]);
  });
});
