import { randomBytes } from 'node:crypto';
import { startAedesTlsEndpoint } from '../../brokers/aedes-tls.ts';
import type { ConnectionObservation } from '../../brokers/observation.ts';
import { buildHierarchy } from '../../certs/factory.ts';
import type { Hierarchy, HierarchySpec } from '../../certs/spec.ts';
import type { TranscriptEntry } from '../at/transcript.ts';
import type { DeviceOutcome, DeviceTlsSettings } from '../drivers/driver.ts';
import type { OpenDevice } from './device.ts';

/** What the device did, judged only from observations on both sides. */
export type CaseOutcome = 'accepted' | 'rejected' | 'inconclusive' | 'blocked' | 'skipped';

/** One case to run: the PKI, the device settings, and where the device dials. */
export interface CaseSpec {
  readonly id: string;
  readonly certs: Omit<HierarchySpec, 'name' | 'dialledHost'>;
  readonly settings: DeviceTlsSettings;
}

export interface LabNetwork {
  /** The host the device dials (an IP literal or a name the device can resolve). */
  readonly dialHost: string;
  /** Where the endpoint listens; loopback unless a lab says otherwise. */
  readonly listenHost: string;
}

export const LOOPBACK_LAB: LabNetwork = { dialHost: '127.0.0.1', listenHost: '127.0.0.1' };

export interface CaseRun {
  readonly outcome: CaseOutcome;
  /** Why the outcome is what it is, in one sentence built from the observations. */
  readonly reason: string;
  readonly device: DeviceOutcome;
  /** The connections the endpoint saw during this case (normally one). */
  readonly server: readonly ConnectionObservation[];
  readonly hierarchy: Hierarchy;
  readonly transcript: readonly TranscriptEntry[];
  readonly mqtt: { readonly clientId: string; readonly topic: string; readonly payload: string };
  readonly startedAt: string;
  readonly endedAt: string;
}

/** How long the endpoint is given to see the connection close after the device reported. */
const SERVER_SETTLE_MS = 3_000;

function classify(
  device: DeviceOutcome,
  server: readonly ConnectionObservation[],
): { outcome: CaseOutcome; reason: string } {
  const reachedTls = server.some((o) => o.clientHello !== null);
  if (device.reached.tlsOpened) {
    return { outcome: 'accepted', reason: 'the device reported the TLS connection open' };
  }
  if (device.error && !device.healthy) {
    return { outcome: 'inconclusive', reason: `device fault: ${device.error}` };
  }
  if (!reachedTls) {
    const code = device.codes.at(-1)?.raw ?? device.error ?? 'no code';
    return {
      outcome: 'inconclusive',
      reason: `failed before TLS: the endpoint saw no ClientHello (${code})`,
    };
  }
  const last = server.at(-1);
  const how =
    last?.clientAlert != null
      ? `client sent alert ${last.clientAlert.number} ${last.clientAlert.name}`
      : `handshake ${last?.handshake ?? 'unknown'}`;
  return { outcome: 'rejected', reason: `the device refused the connection; server saw: ${how}` };
}

/**
 * Runs one case end to end: builds its PKI, serves it from a fresh endpoint, has the device
 * connect and publish, and collects what both sides observed.
 */
export async function runCase(
  device: OpenDevice,
  spec: CaseSpec,
  lab: LabNetwork = LOOPBACK_LAB,
): Promise<CaseRun> {
  const startedAt = new Date().toISOString();
  const hierarchy = await buildHierarchy({ ...spec.certs, name: spec.id, dialledHost: lab.dialHost });
  const endpoint = await startAedesTlsEndpoint({
    chainPem: hierarchy.servedChainPem,
    keyPem: hierarchy.serverKeyPem,
    listenHost: lab.listenHost,
  });
  const mark = device.transcript.mark();
  const slug = spec.id.replace(/[^a-z0-9]+/gi, '-');
  const mqtt = {
    clientId: `trustlab-${slug}`.slice(0, 23),
    topic: `trustlab/${slug}`,
    payload: `case=${spec.id} nonce=${randomBytes(6).toString('hex')}`,
  };
  try {
    const outcome = await device.driver.runMqttCase({
      caseId: spec.id,
      anchorsPem: hierarchy.anchorsPem,
      host: lab.dialHost,
      port: endpoint.listenPort,
      settings: spec.settings,
      ...mqtt,
    });
    await endpoint.settle(SERVER_SETTLE_MS);
    const server = endpoint.observations().map((o) => structuredClone(o));
    return {
      ...classify(outcome, server),
      device: outcome,
      server,
      hierarchy,
      transcript: device.transcript.since(mark),
      mqtt,
      startedAt,
      endedAt: new Date().toISOString(),
    };
  } finally {
    await endpoint.stop();
  }
}
