import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientCertificateSeen, ConnectionObservation } from '../brokers/observation.ts';
import type { CaseOutcome, LabNetwork } from '../contracts/case.ts';
import { formatTranscript, type TranscriptEntry } from '../harness/at/transcript.ts';
import type { OpenDevice } from '../harness/runner/device.ts';
import type { CaseRecord, ServerSummary } from '../reports/record.ts';
import { appendRecord, RESULTS_FILE } from '../reports/results-log.ts';
import { PROFILE_NAMES, type ProfileName } from './profiles.ts';
import type { DeviceSettings, ProfileExpectation } from './scenario-model.ts';
import { judge, type Verdict } from './verdict.ts';

/** The record of one case: results.jsonl's contract plus what the suite adds. */
export type SuiteRecord = CaseRecord & {
  readonly scenario: string;
  readonly settings: DeviceSettings;
  readonly expected: Readonly<Record<string, string>>;
  readonly controlCheck?: { readonly ok: boolean; readonly why: string };
  readonly attempts?: number;
};

/** The server's record of a case, plus the client certificate the broker saw (mutual TLS), null when none. */
export type SuiteServerSummary = ServerSummary & {
  readonly clientCertificate: ClientCertificateSeen | null;
};

/** What a record is about, for every kind of case (a matrix case, a rotation scenario). */
export interface RecordSubject {
  readonly id: string;
  readonly scenario: string;
  readonly title: string;
  readonly settings: DeviceSettings;
  readonly expected: Readonly<Record<ProfileName, ProfileExpectation>>;
}

export function summarizeServer(connections: readonly ConnectionObservation[]): SuiteServerSummary {
  // The device makes one connection per case; if it made more, the last one decided.
  const last = connections.at(-1);
  return {
    connections: connections.length,
    sni: last?.clientHello?.sni ?? null,
    handshake: last?.handshake ?? 'no-connection',
    clientAlert: last?.clientAlert ?? null,
    negotiated: last?.negotiated ?? null,
    mqttConnect: last?.mqttConnect
      ? { clientId: last.mqttConnect.clientId, protocolLevel: last.mqttConnect.protocolLevel }
      : null,
    publishes: connections.flatMap((c) =>
      c.mqttPublishes.map((p) => ({ topic: p.topic, payload: p.payload })),
    ),
    closedBy: last?.closedBy ?? null,
    clientHello: last?.clientHello ?? null,
    clientCertificate: last?.clientCertificate ?? null,
    ...(last
      ? {
          wire: {
            servedChainBytes: last.wire.servedChainBytes,
            certificateRecords: last.wire.certificateRecords,
            largestServerRecord: last.wire.fromServer.maxRecordLength,
            clientKeyExchange: last.wire.clientKeyExchangeSeen,
          },
        }
      : {}),
    ...(last?.serverHelloTampered ? { serverHelloTampered: last.serverHelloTampered } : {}),
  };
}

/** The fields every record starts from: the subject, the device as identified, nothing reached yet. */
export function recordHeader(subject: RecordSubject, device: OpenDevice, lab: LabNetwork) {
  return {
    case: subject.id,
    scenario: subject.scenario,
    title: subject.title,
    settings: subject.settings,
    params: { ...subject.settings, dialHost: lab.dialHost },
    expected: Object.fromEntries(PROFILE_NAMES.map((p) => [p, subject.expected[p].result])),
    device: deviceHeaderOf(device),
  };
}

/** The device as identified, before a case reached anything. */
export function deviceHeaderOf(device: OpenDevice) {
  return {
    label: device.label,
    model: device.identity.model,
    firmware: device.identity.firmware,
    reached: { tlsOpened: false, mqttConnected: false, publishAcked: false },
    error: null,
    healthy: true,
  };
}

/** Each profile's verdict on an outcome; `control-failed` everywhere when the controls did not confirm the case. */
export function verdictsFor(
  subject: RecordSubject,
  outcome: CaseOutcome,
  controlsConfirmed: boolean,
): Record<string, Verdict> {
  return Object.fromEntries(
    PROFILE_NAMES.map((p) => [
      p,
      controlsConfirmed ? judge(outcome, subject.expected[p].result) : 'control-failed',
    ]),
  );
}

/**
 * Every attempt's exchange, not only the last, each headed "attempt N of M" when there were
 * several: why an earlier one failed is part of the evidence.
 */
export function attemptsTranscript(
  tried: readonly { readonly transcript: readonly TranscriptEntry[]; readonly startedAt: string }[],
): TranscriptEntry[] {
  return tried.flatMap((t, i) => [
    ...(tried.length > 1
      ? [
          {
            t: t.transcript[0]?.t ?? Date.parse(t.startedAt),
            dir: 'note' as const,
            data: `attempt ${i + 1} of ${tried.length}`,
          },
        ]
      : []),
    ...t.transcript,
  ]);
}

const fileSlug = (caseId: string) => caseId.replace(/[^a-z0-9]+/gi, '_');

/**
 * Writes a case's transcript and its PEM bundle beside the results. Public material only: each
 * section is a certificate list (what the device was given, what the server sent), never a key.
 */
export function writeCaseFiles(
  outDir: string,
  caseId: string,
  transcript: readonly TranscriptEntry[],
  pemSections: readonly (readonly [label: string, pem: string | null])[],
): { transcriptFile: string; pemFile: string } {
  const transcriptFile = join('transcripts', `${fileSlug(caseId)}.txt`);
  const pemFile = join('certs', `${fileSlug(caseId)}.pem`);
  mkdirSync(join(outDir, 'transcripts'), { recursive: true });
  mkdirSync(join(outDir, 'certs'), { recursive: true });
  writeFileSync(join(outDir, transcriptFile), `${formatTranscript(transcript)}\n`);
  const pem = pemSections.map(([label, body]) => `# ${label}\n${(body ?? '# (none)\n').trim()}\n`).join('');
  writeFileSync(join(outDir, pemFile), pem);
  return { transcriptFile, pemFile };
}

/** Appends a finished record to the run's results.jsonl and returns it. */
export function appendCaseRecord<R extends SuiteRecord>(outDir: string, record: R): R {
  appendRecord(join(outDir, RESULTS_FILE), record);
  return record;
}

/** A case that did not run: blocked by an earlier failure, or skipped for a stated reason. */
export function recordNotRun(
  device: OpenDevice,
  subject: RecordSubject,
  outDir: string,
  lab: LabNetwork,
  outcome: 'blocked' | 'skipped',
  why: string,
  verdict: Verdict = outcome,
): SuiteRecord {
  const at = new Date().toISOString();
  const header = recordHeader(subject, device, lab);
  return appendCaseRecord(outDir, {
    ...header,
    device: { ...header.device, healthy: outcome !== 'blocked' },
    outcome,
    reason: why,
    verdicts: Object.fromEntries(PROFILE_NAMES.map((p) => [p, verdict])),
    codes: [],
    server: summarizeServer([]),
    certs: { anchors: [], served: [] },
    transcriptFile: null,
    startedAt: at,
    endedAt: at,
  });
}
