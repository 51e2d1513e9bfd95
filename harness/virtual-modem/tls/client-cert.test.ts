import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedesTlsEndpoint } from '../../../brokers/aedes-tls.ts';
import type { EndpointHandle } from '../../../brokers/endpoint.ts';
import type { ConnectionObservation } from '../../../brokers/observation.ts';
import { buildCatalogue } from '../../../certs/catalogue/index.ts';
import { buildHierarchy } from '../../../certs/factory.ts';
import type { TlsEngineId, TlsHandshakeRequest } from './engine.ts';
import { engineAvailability, handshakeRequest } from './engine-testing.ts';
import { TLS_ENGINES } from './engines.ts';

const HOST = 'mqtt.broker.test';
const availability = await engineAvailability();

let endpoint: EndpointHandle;
let rootPem: string;
let client: { certPem: string; keyPem: string; subject: string };

beforeAll(async () => {
  const entry = buildCatalogue({ dialledHost: HOST }).find((e) => e.id === 'client::right-ca');
  if (!entry) throw new Error('no client::right-ca in the catalogue');
  const built = await buildHierarchy(entry.spec);
  if (!built.client) throw new Error('client::right-ca built without a client side');
  rootPem = built.anchorsPem as string;
  client = {
    certPem: built.client.chainPem,
    keyPem: built.client.keyPem,
    subject: built.manifest.client?.[0]?.subject ?? '',
  };
  // TLS 1.2, so a refused client certificate ends the handshake where every engine sees it.
  endpoint = await startAedesTlsEndpoint({
    chainPem: built.servedChainPem,
    keyPem: built.serverKeyPem,
    maxTlsVersion: 'TLSv1.2',
    clientAuth: { caPem: built.client.anchorsPem, required: true },
  });
}, 30_000);

afterAll(async () => endpoint?.stop());

const request = (overrides: Partial<TlsHandshakeRequest> = {}): TlsHandshakeRequest =>
  handshakeRequest(endpoint.listenPort, HOST, rootPem, {
    versions: { min: 'TLSv1.2', max: 'TLSv1.2' },
    ...overrides,
  });

/** The broker's record of the newest connection, once it has closed. */
async function lastSeen(): Promise<ConnectionObservation> {
  await endpoint.settle(3_000);
  const seen = endpoint.observations().at(-1);
  if (!seen) throw new Error('the endpoint saw no connection');
  return seen;
}

describe.each(Object.keys(TLS_ENGINES) as TlsEngineId[])(
  '%s engine: client certificate (mutual TLS)',
  (id) => {
    it('presents the given certificate; the broker records and verifies it', async (ctx) => {
      if (!availability[id].ok) ctx.skip(availability[id].reason ?? `${id} unavailable`);
      const r = await TLS_ENGINES[id].handshake(request({ clientCert: client }));
      if (r.ok) r.stream.destroy();
      expect(r.ok, r.ok ? '' : r.reason).toBe(true);
      const seen = await lastSeen();
      expect(seen.clientCertificate?.subject.replaceAll('\n', ', ')).toBe(
        client.subject.replaceAll('\n', ', '),
      );
      expect(seen.clientCertificate?.verified).toBe(true);
      expect(seen.serverClosedReason).toBeNull();
    });

    it('presents none without one: the broker records the refusal', async (ctx) => {
      if (!availability[id].ok) ctx.skip(availability[id].reason ?? `${id} unavailable`);
      const r = await TLS_ENGINES[id].handshake(request());
      if (r.ok) r.stream.destroy();
      const seen = await lastSeen();
      expect(seen.clientCertificate?.verified ?? false).toBe(false);
      expect(seen.clientCertificate?.subject ?? null).toBeNull();
      expect(`${seen.serverClosedReason ?? ''}${seen.serverError ?? ''}`).toMatch(
        /none presented|PEER_DID_NOT_RETURN_A_CERTIFICATE/,
      );
    });
  },
);
