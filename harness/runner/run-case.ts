import { randomBytes } from 'node:crypto';
import { startAedesTlsEndpoint } from '../../brokers/aedes-tls.ts';
import type { EndpointConfig, SharedEndpointHandle } from '../../brokers/endpoint.ts';
import type { ConnectionObservation } from '../../brokers/observation.ts';
import type { PkiHierarchy } from '../../certs/build.ts';
import { buildHierarchy } from '../../certs/factory.ts';
import { type AnchorFileFormat, anchorFileBytes, anchorFileText } from '../../certs/pem.ts';
import type { PkiSpec } from '../../certs/pki-spec.ts';
import type { CertSummary } from '../../certs/spec.ts';
import { type LabNetwork, LOOPBACK_LAB } from '../../contracts/case.ts';
import type { TranscriptEntry } from '../at/transcript.ts';
import type { DeviceOutcome, MqttCaseInput } from '../drivers/driver.ts';
import type { TlsIntent } from '../drivers/tls-intent.ts';
import type { TlsAttempt } from '../virtual-modem/session.ts';
import type { OpenDevice } from './device.ts';

/** What the broker does beyond serving the chain (a subset of the endpoint config, as data). */
export interface CaseServer {
  readonly minTlsVersion?: EndpointConfig['minTlsVersion'];
  readonly maxTlsVersion?: EndpointConfig['maxTlsVersion'];
  readonly ciphers?: string;
  /** Ask for a client certificate issued by the PKI's client anchors; `required` refuses without one. */
  readonly clientAuth?: 'requested' | 'required';
  readonly handshakeFragment?: EndpointConfig['handshakeFragment'];
  readonly serverHelloTamper?: EndpointConfig['serverHelloTamper'];
}

/** One case to run: the PKI (its `dialledHost` is what the device dials), the TLS intent, what the server does. */
export interface CaseSpec {
  readonly id: string;
  readonly pki: PkiSpec;
  /** What the device's TLS client is asked to do; `validate` sets the device clock to "now" for the case. */
  readonly intent: TlsIntent;
  readonly server?: CaseServer;
  /** The device clock under `validate`; absent: now. */
  readonly clock?: Date;
  /** The anchors file written another way than PEM with LF ends (the certificates are the same). */
  readonly anchorFile?: AnchorFileFormat;
}

/** The built PKI of a case, in the form every consumer reads (anchors null = none uploaded). */
export interface CaseHierarchy {
  readonly anchorsPem: string | null;
  readonly servedChainPem: string;
  readonly serverKeyPem: string;
  readonly issuingRootPem: string;
  /** The clock validity windows were placed against. */
  readonly clock: Date;
  readonly dialledHost: string;
  readonly client: PkiHierarchy['client'];
  readonly manifest: { readonly anchors: CertSummary[]; readonly served: CertSummary[] };
}

/** What both ends observed of one device case; judging it is the suite's (suites/judge.ts). */
export interface CaseRun {
  readonly device: DeviceOutcome;
  /** The connections the endpoint saw from the device during this case (normally one). */
  readonly server: readonly ConnectionObservation[];
  readonly hierarchy: CaseHierarchy;
  readonly transcript: readonly TranscriptEntry[];
  readonly mqtt: { readonly clientId: string; readonly topic: string; readonly payload: string };
  /** Virtual modem only: the handshakes it made in this case, with the TLS engine that answered each. */
  readonly virtualTls: readonly TlsAttempt[];
  readonly startedAt: string;
  readonly endedAt: string;
}

/** How long the endpoint is given to see the connection close after the device reported. */
const SERVER_SETTLE_MS = 3_000;

/** Builds a case's PKI into the form every consumer reads, without serving it. */
export async function buildCaseHierarchy(spec: Pick<CaseSpec, 'pki'>): Promise<CaseHierarchy> {
  const built = await buildHierarchy(spec.pki);
  return {
    anchorsPem: built.anchorsPem,
    servedChainPem: built.servedChainPem,
    serverKeyPem: built.serverKeyPem,
    issuingRootPem: built.issuingRootPem,
    clock: built.clock,
    dialledHost: spec.pki.dialledHost,
    client: built.client,
    manifest: { anchors: built.manifest.anchors, served: built.manifest.served },
  };
}

/** The endpoint for a case: the chain exactly as built, and the server behaviour asked for. */
export function endpointConfigFor(
  hierarchy: CaseHierarchy,
  server: CaseServer,
  lab: LabNetwork,
): EndpointConfig {
  const { clientAuth, ...rest } = server;
  if (clientAuth && !hierarchy.client)
    throw new Error('clientAuth asked for, but the PKI has no client side');
  return {
    chainPem: hierarchy.servedChainPem,
    keyPem: hierarchy.serverKeyPem,
    listenHost: lab.listenHost,
    ...rest,
    ...(clientAuth && hierarchy.client
      ? { clientAuth: { caPem: hierarchy.client.anchorsPem, required: clientAuth === 'required' } }
      : {}),
  };
}

/** A started endpoint with its built PKI, for the device and then the reference controls. */
export interface CaseEndpoint {
  readonly hierarchy: CaseHierarchy;
  readonly endpoint: SharedEndpointHandle;
}

export async function startCaseEndpoint(
  spec: CaseSpec,
  lab: LabNetwork = LOOPBACK_LAB,
): Promise<CaseEndpoint> {
  return startEndpointFor(await buildCaseHierarchy(spec), spec.server ?? {}, lab);
}

/** Serves a hierarchy already in hand (built elsewhere, or given as PEM by a test suite). */
export async function startEndpointFor(
  hierarchy: CaseHierarchy,
  server: CaseServer,
  lab: LabNetwork = LOOPBACK_LAB,
): Promise<CaseEndpoint> {
  const endpoint = await startAedesTlsEndpoint(endpointConfigFor(hierarchy, server, lab));
  return { hierarchy, endpoint };
}

/**
 * Has the device connect and publish against a started endpoint, and collects what both sides
 * observed. The endpoint stays up (the caller runs the reference controls against it, then stops it).
 */
export async function runDeviceAgainst(
  device: OpenDevice,
  spec: Pick<CaseSpec, 'id' | 'intent' | 'clock' | 'anchorFile'>,
  { hierarchy, endpoint }: CaseEndpoint,
): Promise<CaseRun> {
  const startedAt = new Date().toISOString();
  const mark = device.transcript.mark();
  const seenBefore = endpoint.observations().length;
  const attemptsBefore = device.virtualModem?.tlsAttempts().length ?? 0;
  const slug = spec.id.replace(/[^a-z0-9]+/gi, '-');
  const mqtt = {
    clientId: `trustlab-${slug}`.slice(0, 23),
    topic: `trustlab/${slug}`,
    payload: `case=${spec.id} nonce=${randomBytes(6).toString('hex')}`,
  };
  const input: MqttCaseInput = {
    caseId: spec.id,
    anchorsPem:
      spec.anchorFile && spec.anchorFile !== 'der' && hierarchy.anchorsPem
        ? anchorFileText(hierarchy.anchorsPem, spec.anchorFile)
        : hierarchy.anchorsPem,
    ...(spec.anchorFile === 'der' && hierarchy.anchorsPem
      ? { anchorsDer: anchorFileBytes(hierarchy.anchorsPem, 'der') }
      : {}),
    host: hierarchy.dialledHost,
    port: endpoint.advertisedPort ?? endpoint.listenPort,
    intent: spec.intent,
    ...mqtt,
    ...(spec.intent.deviceClock === 'validate' ? { clock: spec.clock ?? new Date() } : {}),
    ...(spec.intent.peerVerification === 'mutual' && hierarchy.client
      ? { clientCertificate: { certPem: hierarchy.client.chainPem, keyPem: hierarchy.client.keyPem } }
      : {}),
  };
  const outcome = await device.driver.runMqttCase(input);
  await endpoint.settle(SERVER_SETTLE_MS);
  const server = endpoint
    .observations()
    .slice(seenBefore)
    .map((o) => structuredClone(o));
  return {
    device: outcome,
    server,
    hierarchy,
    transcript: device.transcript.since(mark),
    mqtt,
    virtualTls: device.virtualModem?.tlsAttempts().slice(attemptsBefore) ?? [],
    startedAt,
    endedAt: new Date().toISOString(),
  };
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
  const started = await startCaseEndpoint(spec, lab);
  try {
    return await runDeviceAgainst(device, spec, started);
  } finally {
    await started.endpoint.stop();
  }
}
