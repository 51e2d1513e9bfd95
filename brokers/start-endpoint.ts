import { startAedesTlsEndpoint } from './aedes-tls.ts';
import type { EndpointConfig, EndpointHandle } from './endpoint.ts';
import { containerRuntimeUnavailable, startMosquittoContainerEndpoint } from './mosquitto-container.ts';
import { findMosquitto, startMosquittoEndpoint } from './mosquitto-process.ts';
import type { EngineName } from './observation.ts';
import { startTlsEchoEndpoint } from './tls-echo.ts';

const STARTERS: Record<EngineName, (config: EndpointConfig) => Promise<EndpointHandle>> = {
  aedes: startAedesTlsEndpoint,
  'tls-echo': startTlsEchoEndpoint,
  mosquitto: startMosquittoEndpoint,
  'mosquitto-container': startMosquittoContainerEndpoint,
};

export const ENGINE_NAMES = Object.keys(STARTERS) as EngineName[];

/** Starts the named engine with the one shared config model. */
export function startEndpoint(engine: EngineName, config: EndpointConfig): Promise<EndpointHandle> {
  return STARTERS[engine](config);
}

/** Why an engine cannot run on this machine (for a skip or an error), or null when it can. */
export async function engineUnavailable(engine: EngineName): Promise<string | null> {
  switch (engine) {
    case 'aedes':
    case 'tls-echo':
      return null;
    case 'mosquitto':
      return findMosquitto() ? null : 'mosquitto is not installed (apt-get install mosquitto)';
    case 'mosquitto-container':
      return containerRuntimeUnavailable();
  }
}
