import type { ControlRequest, ControlResult } from './control.ts';
import { gnutlsControl } from './gnutls-control.ts';
import { nodeControl } from './node-control.ts';
import { opensslControl } from './openssl-control.ts';

/** Every reference client against the same endpoint, one after another (each is one full handshake). */
export async function runControls(req: ControlRequest): Promise<ControlResult[]> {
  return [await nodeControl(req), await opensslControl(req), await gnutlsControl(req)];
}
