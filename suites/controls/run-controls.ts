import type { ControlRequest, ControlResult } from './control.ts';
import { gnutlsControl } from './gnutls-control.ts';
import { nodeControl } from './node-control.ts';
import { opensslControl } from './openssl-control.ts';

/**
 * Every reference client against the same endpoint, each one full handshake of its own. They run
 * at once: the endpoint serves them side by side, and nothing compares their timing.
 */
export function runControls(req: ControlRequest): Promise<ControlResult[]> {
  return Promise.all([nodeControl(req), opensslControl(req), gnutlsControl(req)]);
}
