import type { OpenDevice } from './device.ts';
import type { CaseRun } from './run-case.ts';

/** An OpenDevice around a driver a test built itself: virtual, nothing replayed, nothing kept to restore. */
export function testDevice(
  parts: Pick<OpenDevice, 'label' | 'driver' | 'transcript' | 'identity' | 'tls' | 'close'>,
): OpenDevice {
  return { ...parts, virtual: true, recovered: null, restore: async () => [] };
}

/**
 * For the harness's own tests, which may not use the suite's judge: what both ends of a case
 * agree on, from the raw facts. `published` = the device had its publish acknowledged and the
 * server saw a completed handshake carrying the case's CONNECT and payload; `refused in TLS` = the
 * device never had the link up, the server saw a ClientHello and no MQTT at all. Anything else is
 * described, so a failing assertion shows both sides.
 */
export function bothEnds(run: CaseRun): string {
  const tied = run.server.find((o) => o.mqttConnect?.clientId === run.mqtt.clientId);
  const published = tied?.mqttPublishes.some((p) => p.payload === run.mqtt.payload) ?? false;
  if (run.device.reached.publishAcked && tied?.handshake === 'completed' && published) return 'published';
  const hello = run.server.some((o) => o.clientHello !== null);
  const mqtt = run.server.some((o) => o.mqttConnect !== null);
  if (!run.device.reached.tlsOpened && hello && !mqtt) return 'refused in TLS';
  const saw = run.server.map((o) => `${o.handshake}${o.clientAlert ? ` alert ${o.clientAlert.name}` : ''}`);
  return `disagree: device reached ${JSON.stringify(run.device.reached)} (${run.device.codes.map((c) => c.raw).join(' | ') || 'no code'}; ${run.device.error ?? 'no error'}), server saw [${saw.join(', ')}]`;
}
