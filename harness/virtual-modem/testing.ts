import type { VirtualNetwork } from './network.ts';

/** The virtual modem's tests dial this name; the hosts map sends it to loopback. */
export const TEST_HOST = 'broker.test';
export const TEST_NETWORK: VirtualNetwork = { hosts: { [TEST_HOST]: '127.0.0.1', localhost: '127.0.0.1' } };
