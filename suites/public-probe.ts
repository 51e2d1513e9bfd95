import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { buildHierarchy } from '../certs/factory.ts';
import { standardSpec } from '../certs/pki-spec.ts';
import { DEFAULT_INTENT } from '../harness/drivers/tls-intent.ts';
import type { OpenDevice } from '../harness/runner/device.ts';
import type { CaseRecord } from '../reports/record.ts';
import { appendRecord, RESULTS_FILE } from '../reports/results-log.ts';
import { PROFILE_NAMES } from './profiles.ts';

/**
 * Well-known public MQTT brokers whose TLS port chains to a public root (Let's Encrypt, DigiCert),
 * none of which the lab's unrelated root has signed. Only ever dialled by a real modem on request.
 */
export const PUBLIC_BROKERS: readonly { readonly host: string; readonly port: number }[] = [
  { host: 'broker.hivemq.com', port: 8883 },
  { host: 'broker.emqx.io', port: 8883 },
  { host: 'test.mosquitto.org', port: 8886 },
];

/** Case id of one public-broker probe. */
export const publicProbeId = (host: string) => `public::wrong-ca-${host}`;

/**
 * Why `--public-probe` may not run here, or null when it may. It dials addresses beyond loopback,
 * so it needs a real modem (the virtual one answers the question with a lab root in its built-in
 * store) and never runs under a test runner.
 */
export function publicProbeRefused(device: string | undefined, env: NodeJS.ProcessEnv): string | null {
  if (env.VITEST || env.NODE_ENV === 'test') {
    return '--public-probe never runs under a test runner: it dials public brokers beyond loopback';
  }
  if (!device) {
    return '--public-probe needs a real modem (--device); the virtual modem answers the built-in-store question with a lab root in its store';
  }
  return null;
}

/**
 * Uploads a lab root that signed nothing public and has the modem connect to each public broker.
 * A modem that trusts only what was uploaded must refuse every one; connecting means it also trusts
 * a built-in store. Only the device side is observed (the broker is not ours).
 */
export async function runPublicProbe(
  device: OpenDevice,
  outDir: string,
  brokers = PUBLIC_BROKERS,
): Promise<CaseRecord[]> {
  const refused = publicProbeRefused(device.virtual ? undefined : device.label, process.env);
  if (refused) throw new Error(refused);
  const pki = await buildHierarchy(
    standardSpec({
      name: 'public-probe',
      keyType: 'p256',
      dialledHost: 'unused.trustlab.test',
      intermediates: 0,
    }),
  );
  const records: CaseRecord[] = [];
  for (const broker of brokers) {
    const startedAt = new Date().toISOString();
    const clientId = `trustlab-${randomBytes(4).toString('hex')}`;
    const outcome = await device.driver.runMqttCase({
      caseId: publicProbeId(broker.host),
      anchorsPem: pki.anchorsPem,
      host: broker.host,
      port: broker.port,
      intent: DEFAULT_INTENT,
      clock: new Date(),
      clientId,
      topic: `trustlab/probe/${clientId}`,
      payload: 'public-probe',
    });
    const accepted = outcome.reached.tlsOpened;
    const failedBeforeTls = !accepted && outcome.codes.length === 0;
    const record: CaseRecord = {
      case: publicProbeId(broker.host),
      title: `an unrelated root uploaded, ${broker.host}:${broker.port} (publicly rooted) dialled`,
      params: { host: broker.host, port: broker.port, seclevel: 1, sni: 1 },
      outcome: accepted ? 'accepted' : failedBeforeTls ? 'inconclusive' : 'rejected',
      reason: accepted
        ? 'the device opened TLS to a public broker although only an unrelated root was uploaded'
        : `the device did not open TLS (${outcome.codes.at(-1)?.raw ?? outcome.error ?? 'no code'})`,
      verdicts: Object.fromEntries(PROFILE_NAMES.map((p) => [p, accepted ? 'lenient' : 'conformant'])),
      codes: outcome.codes.map((c) => c.raw),
      server: {
        connections: 0,
        sni: null,
        handshake: 'no-connection',
        clientAlert: null,
        negotiated: null,
        mqttConnect: null,
        publishes: [],
        closedBy: null,
        clientHello: null,
      },
      device: {
        label: device.label,
        model: device.identity.model,
        firmware: device.identity.firmware,
        reached: outcome.reached,
        error: outcome.error,
        healthy: outcome.healthy,
      },
      certs: { anchors: pki.manifest.anchors, served: [] },
      transcriptFile: null,
      startedAt,
      endedAt: new Date().toISOString(),
    };
    appendRecord(join(outDir, RESULTS_FILE), record);
    records.push(record);
  }
  return records;
}
