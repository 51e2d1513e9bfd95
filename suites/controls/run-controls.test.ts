import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedesTlsEndpoint } from '../../brokers/aedes-tls.ts';
import type { EndpointHandle } from '../../brokers/endpoint.ts';
import { buildHierarchy } from '../../certs/factory.ts';
import type { Hierarchy } from '../../certs/spec.ts';
import { toolAvailable } from '../../harness/tools/find-tool.ts';
import type { ControlRequest, ControlResult } from './control.ts';
import { runControls } from './run-controls.ts';

const tools = {
  openssl: await toolAvailable('openssl'),
  gnutls: await toolAvailable('gnutls-cli', ['--version']),
};
let h: Hierarchy;
let endpoint: EndpointHandle;

beforeAll(async () => {
  h = await buildHierarchy({
    name: 'controls',
    keyType: 'p256',
    dialledHost: 'broker.test',
    anchor: 'unrelated-root',
  });
  endpoint = await startAedesTlsEndpoint({ chainPem: h.servedChainPem, keyPem: h.serverKeyPem });
});

afterAll(async () => {
  await endpoint.stop();
});

const request = (over: Partial<ControlRequest>): ControlRequest => ({
  connectHost: '127.0.0.1',
  port: endpoint.listenPort,
  dialledHost: 'broker.test',
  sni: true,
  anchorsPem: h.issuingRootPem,
  ...over,
});

const byClient = (results: ControlResult[]) => Object.fromEntries(results.map((r) => [r.client, r]));

/** A client whose tool is missing must say so, never pretend to have a verdict. */
function expectVerdict(
  r: ControlResult | undefined,
  installed: boolean,
  status: 'accepted' | 'rejected',
  reason?: RegExp,
) {
  if (!installed) {
    expect(r?.status).toBe('unavailable');
    return;
  }
  expect(r?.status, r?.detail).toBe(status);
  if (reason) expect(r?.reason).toMatch(reason);
}

describe('reference controls against a live endpoint', () => {
  it('all accept the valid chain with the issuing root and the right name', async () => {
    const r = byClient(await runControls(request({})));
    expectVerdict(r.node, true, 'accepted');
    expectVerdict(r.openssl, tools.openssl, 'accepted');
    expectVerdict(r.gnutls, tools.gnutls, 'accepted');
  });

  it('all reject an unrelated root, each for an unknown-issuer reason', async () => {
    const r = byClient(await runControls(request({ anchorsPem: h.anchorsPem })));
    expectVerdict(r.node, true, 'rejected', /UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)/);
    expectVerdict(r.openssl, tools.openssl, 'rejected', /X509_V_ERR (20|21)\b/);
    expectVerdict(r.gnutls, tools.gnutls, 'rejected', /issuer is unknown/);
  });

  it('all reject a name the certificate does not carry, for a hostname reason', async () => {
    const r = byClient(await runControls(request({ dialledHost: 'other.test' })));
    expectVerdict(r.node, true, 'rejected', /ERR_TLS_CERT_ALTNAME_INVALID/);
    expectVerdict(r.openssl, tools.openssl, 'rejected', /X509_V_ERR 62\b/);
    expectVerdict(r.gnutls, tools.gnutls, 'rejected', /does not match/);
  });

  it('verifies at the device clock where the client can, and says when it cannot', async () => {
    const inTwoYears = new Date(Date.now() + 2 * 365 * 86_400_000);
    const r = byClient(await runControls(request({ atTime: inTwoYears })));
    expect(r.node?.status).toBe('unavailable');
    expect(r.gnutls?.status).toBe('unavailable');
    expectVerdict(r.openssl, tools.openssl, 'rejected', /X509_V_ERR 10\b/);
  });

  it('trusts nothing when no anchors were given, never a system store', async () => {
    const r = byClient(await runControls(request({ anchorsPem: null })));
    expectVerdict(r.node, true, 'rejected');
    expectVerdict(r.openssl, tools.openssl, 'rejected');
  });
});
