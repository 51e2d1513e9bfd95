import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedesTlsEndpoint } from '../../../brokers/aedes-tls.ts';
import type { SharedEndpointHandle } from '../../../brokers/endpoint.ts';
import type { ConnectionObservation } from '../../../brokers/observation.ts';
import { buildCatalogue } from '../../../certs/catalogue/index.ts';
import { buildHierarchy } from '../../../certs/factory.ts';
import { type FixturePki, makePki } from '../fixtures/pki.ts';
import { MqttSession } from '../mqtt-session.ts';
import type { TlsEngineId, TlsHandshakeRequest, TlsVersion } from './engine.ts';
import { engineAvailability, handshakeRequest } from './engine-testing.ts';
import { TLS_ENGINES } from './engines.ts';

const HOST = 'broker.test';
const availability = await engineAvailability();

let first: FixturePki;
let other: FixturePki;
let dir: string;

beforeAll(async () => {
  first = await makePki(HOST);
  other = await makePki(HOST); // same name, another root: the first root does not verify it
  dir = mkdtempSync(join(tmpdir(), 'trustlab-sessions-test-'));
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (port: number, sessionFile: string, max: TlsVersion): TlsHandshakeRequest =>
  handshakeRequest(port, HOST, first.rootPem, { versions: { min: 'TLSv1.2', max }, sessionFile });

/** One connection: handshake, an MQTT CONNECT (so a TLS 1.3 ticket has arrived), close; both ends' view. */
async function connectOnce(engine: TlsEngineId, endpoint: SharedEndpointHandle, req: TlsHandshakeRequest) {
  const before = endpoint.observations().length;
  const r = await TLS_ENGINES[engine].handshake(req);
  if (r.ok) {
    const mqtt = new MqttSession(r.stream, 4);
    await mqtt.connect('trustlab-sessions', 5_000);
    mqtt.disconnect();
    r.stream.destroy();
  }
  await endpoint.settle(3_000);
  return { result: r, seen: endpoint.observations()[before] as ConnectionObservation };
}

describe.each(Object.keys(TLS_ENGINES) as TlsEngineId[])('TLS sessions on engine %s', (engine) => {
  for (const max of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`keeps the session of an accepted ${max} handshake and resumes it after the server's chain changed`, async (ctx) => {
      const a = availability[engine];
      if (!a.ok) ctx.skip(`${engine} unavailable: ${a.reason}`);
      if (engine === 'mbedtls' && max === 'TLSv1.3') ctx.skip('mbedTLS 2.28 has no TLS 1.3');
      const endpoint = await startAedesTlsEndpoint({ chainPem: first.chainPem, keyPem: first.keyPem });
      try {
        const file = join(dir, `${engine}-${max}`);
        const one = await connectOnce(engine, endpoint, request(endpoint.listenPort, file, max));
        expect(one.result.ok, one.result.ok ? '' : one.result.reason).toBe(true);
        expect(one.seen.resumed).toBe(false);
        endpoint.serveChain(other.chainPem, other.keyPem);
        const two = await connectOnce(engine, endpoint, request(endpoint.listenPort, file, max));
        if (engine === 'gnutls') {
          // gnutls-cli keeps nothing between runs: a full handshake, the new chain refused, said why.
          expect(two.result.unsupported.join(' ')).toMatch(/sessionFile/);
          expect(two.result.ok).toBe(false);
          expect(two.seen.resumed).not.toBe(true);
          return;
        }
        // The server resumed: no Certificate was sent, so the refused chain was never checked.
        expect(two.seen.resumed).toBe(true);
        expect(two.result.ok, two.result.ok ? '' : two.result.reason).toBe(true);
        const offered = two.seen.clientHello;
        if (max === 'TLSv1.3') expect(offered?.extensions).toContain(41);
        else
          expect(
            (offered?.sessionTicketBytes ?? 0) > 0 ||
              offered?.sessionId === one.seen.wire.serverHello?.sessionId,
          ).toBe(true);
        if (max === 'TLSv1.2') expect(two.seen.wire.servedChain).toBeNull();
      } finally {
        await endpoint.stop();
      }
    });
  }

  it('keeps no session from a refused handshake: the next connection verifies afresh', async (ctx) => {
    const a = availability[engine];
    if (!a.ok) ctx.skip(`${engine} unavailable: ${a.reason}`);
    const endpoint = await startAedesTlsEndpoint({ chainPem: other.chainPem, keyPem: other.keyPem });
    try {
      const file = join(dir, `${engine}-refused`);
      const max = engine === 'mbedtls' ? 'TLSv1.2' : 'TLSv1.3';
      const one = await connectOnce(engine, endpoint, request(endpoint.listenPort, file, max));
      expect(one.result.ok).toBe(false);
      endpoint.serveChain(first.chainPem, first.keyPem);
      const two = await connectOnce(engine, endpoint, request(endpoint.listenPort, file, max));
      expect(two.result.ok, two.result.ok ? '' : two.result.reason).toBe(true);
      expect(two.seen.resumed).toBe(false);
    } finally {
      await endpoint.stop();
    }
  });

  it('keeps a session whose peer certificate is large (an 8 kB leaf), and resumes it', async (ctx) => {
    const a = availability[engine];
    if (!a.ok) ctx.skip(`${engine} unavailable: ${a.reason}`);
    if (engine === 'gnutls') ctx.skip('gnutls-cli keeps no session between runs (asserted above)');
    const large = 'large.broker.test'; // the catalogue's names need three labels
    const entry = buildCatalogue({ dialledHost: large }).find((e) => e.id === 'sizes::leaf-8k');
    if (!entry) throw new Error('no sizes::leaf-8k in the catalogue');
    const built = await buildHierarchy(entry.spec);
    const endpoint = await startAedesTlsEndpoint({
      chainPem: built.servedChainPem,
      keyPem: built.serverKeyPem,
      maxTlsVersion: 'TLSv1.2',
    });
    try {
      const file = join(dir, `${engine}-large`);
      const req = handshakeRequest(endpoint.listenPort, large, built.anchorsPem, {
        versions: { min: 'TLSv1.2', max: 'TLSv1.2' },
        sessionFile: file,
      });
      const one = await connectOnce(engine, endpoint, req);
      expect(one.result.ok, one.result.ok ? '' : one.result.reason).toBe(true);
      const two = await connectOnce(engine, endpoint, req);
      expect(two.seen.resumed).toBe(true);
    } finally {
      await endpoint.stop();
    }
  });
});
