import { startAedesTlsEndpoint } from './aedes-tls.ts';
import type { EndpointConfig, EndpointHandle } from './endpoint.ts';
import type { EngineName } from './observation.ts';
import { startTlsEchoEndpoint } from './tls-echo.ts';

const STARTERS: Record<EngineName, (config: EndpointConfig) => Promise<EndpointHandle>> = {
  aedes: startAedesTlsEndpoint,
  'tls-echo': startTlsEchoEndpoint,
  mosquitto: async () => {
    throw new Error('not yet');
  },
  'mosquitto-container': async () => {
    throw new Error('not yet');
  },
};

/** Starts the named engine with one shared config model. */
export function startEndpoint(engine: EngineName, config: EndpointConfig): Promise<EndpointHandle> {
  return STARTERS[engine](config);
}

/** Why an engine cannot run on this machine, or null when it can. */
export async function engineUnavailable(engine: EngineName): Promise<string | null> {
  if (engine === 'aedes' || engine === 'tls-echo') return null;
  return 'not yet';
}
