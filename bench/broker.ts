/**
 * npm run bench:broker — how fast an endpoint is ready and how many TLS handshakes it takes per
 * second on loopback. Figures only; the machine is shared and noisy, so medians are printed.
 * Last line: `broker: start_ms=<X> handshakes_per_s=<Y>` (aedes, the default endpoint; target ≤ 50 ms).
 */
import tls from 'node:tls';
import type { EndpointConfig } from '../brokers/endpoint.ts';
import { engineUnavailable, startEndpoint } from '../brokers/start-endpoint.ts';
import { buildLabPki } from '../brokers/testing/lab-pki.ts';

const STARTS = 15;
const HANDSHAKE_WINDOW_MS = 3_000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

function handshake(port: number, ca: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'broker.test' });
    // end(), not destroy(): destroy() drops the client's Finished and the server never completes.
    s.once('secureConnect', () => s.end());
    s.once('close', () => resolve());
    s.once('error', reject);
  });
}

async function startMs(engine: 'aedes' | 'mosquitto', config: EndpointConfig, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const ep = await startEndpoint(engine, config);
    times.push(performance.now() - t0);
    await ep.stop();
  }
  return median(times);
}

/** Sequential handshakes for a fixed window: what one device-at-a-time lab needs. */
async function handshakesPerSecond(engine: 'aedes' | 'mosquitto', config: EndpointConfig, ca: string) {
  const ep = await startEndpoint(engine, config);
  try {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < HANDSHAKE_WINDOW_MS) {
      await handshake(ep.listenPort, ca);
      n++;
    }
    const perSecond = n / ((performance.now() - t0) / 1000);
    await ep.settle(2_000);
    const completed = ep.observations().filter((o) => o.handshake === 'completed').length;
    if (completed !== n)
      throw new Error(`${engine}: ${n} handshakes made, ${completed} recorded as completed`);
    return perSecond;
  } finally {
    await ep.stop();
  }
}

const pki = await buildLabPki();
const config: EndpointConfig = { chainPem: pki.leafPem + pki.intermediatePem, keyPem: pki.leafKeyPem };

await startMs('aedes', config, 3); // warm-up: module loading and JIT are not the endpoint's cost
const aedesStart = await startMs('aedes', config, STARTS);
const aedesRate = await handshakesPerSecond('aedes', config, pki.rootPem);
console.log(
  `aedes: start_ms median of ${STARTS}=${aedesStart.toFixed(1)} handshakes_per_s=${aedesRate.toFixed(0)}`,
);

const noMosquitto = await engineUnavailable('mosquitto');
if (noMosquitto) {
  console.log(`mosquitto: skipped (${noMosquitto})`);
} else {
  const mStart = await startMs('mosquitto', config, 5);
  const mRate = await handshakesPerSecond('mosquitto', config, pki.rootPem);
  console.log(`mosquitto: start_ms median of 5=${mStart.toFixed(1)} handshakes_per_s=${mRate.toFixed(0)}`);
}

console.log(`broker: start_ms=${aedesStart.toFixed(1)} handshakes_per_s=${aedesRate.toFixed(0)}`);
