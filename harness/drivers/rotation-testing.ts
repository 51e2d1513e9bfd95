import { startAedesTlsEndpoint } from '../../brokers/aedes-tls.ts';
import type { EndpointHandle } from '../../brokers/endpoint.ts';
import { buildHierarchy } from '../../certs/factory.ts';
import { TEST_HOST } from '../virtual-modem/testing.ts';
import type { RotationCaseInput, RotationSide } from './rotation.ts';
import { DEFAULT_INTENT } from './tls-intent.ts';

/** The two servers of a rotation test and the driver input for either kind of case. */
export interface RotationSides {
  input(kind: RotationCaseInput['kind']): RotationCaseInput;
  stop(): Promise<void>;
}

/**
 * For the drivers' rotation tests: two unrelated CAs (different names and key types), each issuing
 * only its own server's chain, each served by its own loopback endpoint.
 */
export async function startRotationSides(label: string): Promise<RotationSides> {
  const started: EndpointHandle[] = [];
  const side = async (name: string, keyType: 'p256' | 'rsa2048') => {
    const h = await buildHierarchy({ name, keyType, dialledHost: TEST_HOST, anchor: 'issuing-root' });
    const endpoint = await startAedesTlsEndpoint({
      chainPem: h.servedChainPem,
      keyPem: h.serverKeyPem,
      listenHost: '127.0.0.1',
    });
    started.push(endpoint);
    return { pem: h.anchorsPem, port: endpoint.listenPort };
  };
  try {
    const sides: Record<RotationSide, { pem: string; port: number }> = {
      old: await side(`${label} old`, 'p256'),
      new: await side(`${label} new`, 'rsa2048'),
    };
    return {
      input: (kind) => ({
        caseId: `rotation::${kind}`,
        kind,
        intent: { ...DEFAULT_INTENT, version: 'TLSv1.2' },
        clientId: `rot-${kind}`,
        topic: `trustlab/rotation/${kind}`,
        payload: 'rotation',
        anchors: { old: sides.old.pem, new: sides.new.pem },
        servers: {
          old: { host: TEST_HOST, port: sides.old.port },
          new: { host: TEST_HOST, port: sides.new.port },
        },
      }),
      stop: async () => {
        await Promise.all(started.map((e) => e.stop()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((e) => e.stop()));
    throw error;
  }
}
