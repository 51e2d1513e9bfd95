import type { ConnectionObservation } from '../brokers/observation.ts';
import type { ServerHelloTamper } from '../brokers/server-hello-tamper.ts';
import type { DeviceOutcome } from '../harness/drivers/driver.ts';
import type { Judgement } from './judge.ts';

/**
 * A case whose ServerHello the lab changed (brokers/server-hello-tamper.ts) can never complete: the
 * Finished MAC covers the ServerHello. So the outcome is where the device stopped, read off the
 * wire of its own connection: `rejected` when it stopped before its key exchange (a ServerHello
 * check), `accepted` when it sent its ClientKeyExchange as if nothing were wrong. `skipped` when
 * the lab never sent the changed ServerHello, or the change asks nothing of this device (the TLS
 * 1.3 downgrade sentinel binds only a client that offered TLS 1.3). Null: not a tampering case,
 * or nothing reached TLS (the ordinary judge says why).
 */
export function judgeTampered(
  tamper: ServerHelloTamper,
  device: DeviceOutcome,
  last: ConnectionObservation | undefined,
): Judgement | null {
  if (!last?.clientHello) return null;
  if (!device.healthy)
    return {
      outcome: 'inconclusive',
      reason: `device fault during the case: ${device.error ?? 'marked unhealthy'}; no verdict from a faulty device`,
    };
  if (last.serverHelloTampered === null)
    return {
      outcome: 'skipped',
      reason: `the lab could not present the changed ServerHello: the server sent none (${last.serverError ?? last.handshake}) to a client offering ${last.clientHello.offeredVersions.join(', ')}`,
    };
  if (tamper === 'downgrade-sentinel' && !last.clientHello.offeredVersions.includes('TLSv1.3'))
    return {
      outcome: 'skipped',
      reason: `the device offered ${last.clientHello.offeredVersions.join(', ')}, not TLS 1.3: the downgrade sentinel binds only a client that offered TLS 1.3 (RFC 8446 §4.1.3)`,
    };
  const alert = last.clientAlert ? `alert ${last.clientAlert.number} ${last.clientAlert.name}` : 'no alert';
  if (last.wire.clientKeyExchangeSeen)
    return {
      outcome: 'accepted',
      reason: `the device went on past the changed ServerHello (${last.serverHelloTampered}): it sent its ClientKeyExchange; the handshake then ended (${alert}), as it must once the Finished MAC fails`,
    };
  return {
    outcome: 'rejected',
    reason: `the device stopped at the changed ServerHello (${last.serverHelloTampered}) before its key exchange: ${alert}`,
  };
}
