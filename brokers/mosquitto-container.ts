import type { Readable } from 'node:stream';
import type mqtt from 'mqtt';
import { type EndpointConfig, type EndpointHandle, frontListen, resolveAddresses } from './endpoint.ts';
import { checkMosquittoSupport, mosquittoConf } from './mosquitto-conf.ts';
import { parseMosquittoLine } from './mosquitto-log.ts';
import { MOSQUITTO_GAPS, MosquittoLogApplier, startPayloadObserver } from './mosquitto-observer.ts';
import { startObservingFront } from './observing-front.ts';

export const MOSQUITTO_IMAGE = 'eclipse-mosquitto:2.0';
const TLS_PORT = 8883;
const OBSERVER_PORT = 1883;
const LOG_CATCH_UP_MS = 1_000;

/** Why no container engine is reachable here (the runtime's own message), or null when one is. */
export async function containerRuntimeUnavailable(): Promise<string | null> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  return getContainerRuntimeClient().then(
    () => null,
    (err: Error) => `no container runtime: ${err.message}`,
  );
}

/**
 * The same generated mosquitto.conf in `eclipse-mosquitto:2.0` through testcontainers, behind the
 * same observing front. Inside the container the broker sees Docker's proxy, not the relay's port,
 * so log lines are matched to connections in arrival order (one connection at a time is exact).
 */
export async function startMosquittoContainerEndpoint(config: EndpointConfig): Promise<EndpointHandle> {
  checkMosquittoSupport('mosquitto-container', config);
  const { GenericContainer, Wait } = await import('testcontainers');
  const layout = {
    bindHost: '0.0.0.0',
    tlsPort: TLS_PORT,
    observerPort: OBSERVER_PORT,
    certfile: '/mosquitto/config/chain.pem',
    keyfile: '/mosquitto/config/key.pem',
    cafile: '/mosquitto/config/client-ca.pem',
    logDest: 'stdout',
  };
  const container = await new GenericContainer(MOSQUITTO_IMAGE)
    .withCopyContentToContainer([
      { content: mosquittoConf(config, layout), target: '/mosquitto/config/mosquitto.conf', mode: 0o644 },
      { content: config.chainPem, target: layout.certfile, mode: 0o644 },
      { content: config.keyPem, target: layout.keyfile, mode: 0o644 },
      { content: config.clientAuth?.caPem ?? '', target: layout.cafile, mode: 0o644 },
    ])
    .withExposedPorts(TLS_PORT, OBSERVER_PORT)
    .withWaitStrategy(Wait.forLogMessage(/mosquitto version .* running/))
    .withStartupTimeout(30_000)
    .start();

  let front: Awaited<ReturnType<typeof startObservingFront>>;
  let observer: mqtt.MqttClient;
  let logs: Readable;
  let applier: MosquittoLogApplier;
  try {
    front = await startObservingFront({
      engine: 'mosquitto-container',
      listen: frontListen(config),
      upstream: { host: container.getHost(), port: container.getMappedPort(TLS_PORT) },
      refragmentHandshake: config.handshakeFragment ?? null,
      ...(config.serverHelloTamper ? { tamperServerHello: config.serverHelloTamper } : {}),
      gaps: [
        ...MOSQUITTO_GAPS,
        'connections are matched to log lines in arrival order (Docker hides the relay port)',
      ],
    });
    applier = new MosquittoLogApplier(front, TLS_PORT, 'order');
    logs = await container.logs();
    let partial = '';
    logs.on('data', (chunk: Buffer | string) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        const event = parseMosquittoLine(line);
        if (event) applier.apply(event);
      }
    });
    observer = await startPayloadObserver(
      container.getHost(),
      container.getMappedPort(OBSERVER_PORT),
      applier,
    );
  } catch (err) {
    await container.stop();
    throw err;
  }

  return {
    ...resolveAddresses(config, front.listenPort),
    engine: 'mosquitto-container',
    notes: [`${MOSQUITTO_IMAGE} through testcontainers`],
    observations: () => front.observations(),
    async settle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      await front.settle(timeoutMs);
      const logDeadline = Math.min(deadline, Date.now() + LOG_CATCH_UP_MS);
      while (!applier.caughtUp() && Date.now() < logDeadline) await new Promise((r) => setTimeout(r, 10));
      applier.flushUnmatched();
    },
    async stop() {
      await front.close();
      logs.destroy();
      await observer.endAsync(true).catch(() => {});
      await container.stop();
    },
  };
}
