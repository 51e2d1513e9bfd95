import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedesTlsEndpoint } from '../../../brokers/aedes-tls.ts';
import { buildHierarchy } from '../../../certs/factory.ts';
import { AtEngine } from '../../at/engine.ts';
import { Transcript } from '../../at/transcript.ts';
import { createMemoryPair } from '../../transport/memory-pair.ts';
import { startVirtualModem } from '../../virtual-modem/start.ts';
import { Nrf91SlmDriver } from './driver.ts';

const NAME = 'broker.trustlab.test';
let anchorsPem: string;
let endpoint: Awaited<ReturnType<typeof startAedesTlsEndpoint>>;

beforeAll(async () => {
  // The server's certificate names another host: only a hostname check can tell.
  const h = await buildHierarchy({
    keyType: 'p256',
    anchor: 'issuing-root',
    name: 'nrf-socket-other-name',
    dialledHost: 'other.trustlab.test',
  });
  anchorsPem = h.anchorsPem;
  endpoint = await startAedesTlsEndpoint({ chainPem: h.servedChainPem, keyPem: h.serverKeyPem });
});
afterAll(async () => {
  await endpoint?.stop();
});

async function rig() {
  const [host, io] = createMemoryPair();
  const modem = await startVirtualModem(
    { family: 'nrf91-slm', personality: 'mfw-1.2.3', network: { hosts: { [NAME]: '127.0.0.1' } } },
    io,
  );
  const driver = new Nrf91SlmDriver(new AtEngine(host, { transcript: new Transcript() }));
  return { driver, modem };
}

describe('nRF91 SLM TLS socket on the virtual nRF91: the hostname knob decides a name mismatch', () => {
  it('with TLS_HOSTNAME set to the dialled name, the wrong-name certificate is refused', async () => {
    const { driver, modem } = await rig();
    const out = await driver.runTlsSocketCase({
      caseId: 'name',
      anchorsPem,
      host: NAME,
      port: endpoint.listenPort,
      peerVerify: 2,
      hostname: NAME,
    });
    modem.stop();
    expect(out.codes.map((c) => c.raw)).toEqual([
      expect.stringMatching(/^#XSSOCKET: \d+,1,258$/),
      'ERROR',
      '#XSOCKET: 0,"closed"',
    ]);
    expect(out.stages.tls).toBeNull();
    expect(out.healthy).toBe(true);
  });

  it('with hostname "NULL" (no name check, no SNI), the same certificate is accepted', async () => {
    const { driver, modem } = await rig();
    const out = await driver.runTlsSocketCase({
      caseId: 'name',
      anchorsPem,
      host: NAME,
      port: endpoint.listenPort,
      peerVerify: 2,
      hostname: null,
    });
    modem.stop();
    expect(out.codes.map((c) => c.raw)).toContain('#XCONNECT: 1');
    expect(out.stages.tls).not.toBeNull();
    expect(modem.files().size).toBe(0);
  });
});
