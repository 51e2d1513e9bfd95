import { type EndpointConfig, type EndpointHandle, frontListen, resolveAddresses } from './endpoint.ts';
import { startNodeTlsEngine } from './node-tls-engine.ts';
import type { ConnectionObservation } from './observation.ts';
import { startObservingFront } from './observing-front.ts';

/** How much of what a client sent is kept as text in the record. */
const PREVIEW_BYTES = 256;

/**
 * A raw TLS endpoint without MQTT, for a modem's plain SSL socket (AT+QSSLOPEN / QSSLSEND): it echoes
 * every byte back and records how many arrived and how they began. Same config, front and record
 * as the MQTT endpoints; `sniRouting` has no CONNECT to act on here and is refused.
 */
export async function startTlsEchoEndpoint(config: EndpointConfig): Promise<EndpointHandle> {
  if (config.sniRouting) throw new Error('tls-echo: sniRouting acts on MQTT CONNECT; this endpoint has none');
  let lookup: (port: number) => ConnectionObservation | undefined = () => undefined;
  const engine = await startNodeTlsEngine(
    config,
    (port) => lookup(port),
    (socket, obs) => {
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => {
        if (obs) {
          const seen = obs.plainData ?? { bytes: 0, firstBytes: '' };
          seen.bytes += chunk.length;
          if (seen.firstBytes.length < PREVIEW_BYTES) {
            seen.firstBytes = (seen.firstBytes + chunk.toString('utf8')).slice(0, PREVIEW_BYTES);
          }
          obs.plainData = seen;
        }
        socket.write(chunk);
      });
      socket.on('end', () => socket.end());
    },
  );
  let front: Awaited<ReturnType<typeof startObservingFront>>;
  try {
    front = await startObservingFront({
      engine: 'tls-echo',
      listen: frontListen(config),
      upstream: { host: '127.0.0.1', port: engine.port },
      ...(config.serverHelloTamper ? { tamperServerHello: config.serverHelloTamper } : {}),
      gaps: ['no MQTT: mqttConnect and mqttPublishes stay empty; plainData holds what the client sent'],
    });
  } catch (err) {
    await engine.close();
    throw err;
  }
  lookup = (port) => front.byUpstreamPort(port);
  return {
    ...resolveAddresses(config, front.listenPort),
    engine: 'tls-echo',
    notes: engine.notes,
    observations: () => front.observations(),
    settle: (ms) => front.settle(ms),
    async stop() {
      await front.close();
      await engine.close();
    },
  };
}
