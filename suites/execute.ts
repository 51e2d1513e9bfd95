import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionObservation } from '../brokers/observation.ts';
import { formatTranscript } from '../harness/at/transcript.ts';
import type { OpenDevice } from '../harness/runner/device.ts';
import { type CaseRun, type LabNetwork, runCase } from '../harness/runner/run-case.ts';
import type { CaseRecord, ServerSummary } from '../reports/record.ts';
import { appendRecord } from '../reports/results-log.ts';
import { PROFILE_NAMES } from './profiles.ts';
import type { Scenario } from './scenarios.ts';
import { judge } from './verdict.ts';

export const RESULTS_FILE = 'results.jsonl';

function summarizeServer(connections: readonly ConnectionObservation[]): ServerSummary {
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
  };
}

function toRecord(
  scenario: Scenario,
  run: CaseRun,
  device: OpenDevice,
  lab: LabNetwork,
  transcriptFile: string,
): CaseRecord {
  return {
    case: scenario.id,
    title: scenario.title,
    params: { ...scenario.settings, dialHost: lab.dialHost, keyType: scenario.certs.keyType },
    outcome: run.outcome,
    reason: run.reason,
    verdicts: Object.fromEntries(PROFILE_NAMES.map((p) => [p, judge(run.outcome, scenario.expected[p])])),
    codes: run.device.codes.map((c) => c.raw),
    server: summarizeServer(run.server),
    device: {
      label: device.label,
      model: device.identity.model,
      firmware: device.identity.firmware,
      reached: run.device.reached,
      error: run.device.error,
      healthy: run.device.healthy,
    },
    certs: run.hierarchy.manifest,
    transcriptFile,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
  };
}

/** Runs a scenario on the device, writes its transcript, appends its record, and returns both. */
export async function executeScenario(
  device: OpenDevice,
  scenario: Scenario,
  outDir: string,
  lab: LabNetwork,
): Promise<{ record: CaseRecord; run: CaseRun }> {
  const run = await runCase(device, scenario, lab);
  const transcriptFile = join('transcripts', `${scenario.id.replace(/[^a-z0-9]+/gi, '_')}.txt`);
  mkdirSync(join(outDir, 'transcripts'), { recursive: true });
  writeFileSync(join(outDir, transcriptFile), `${formatTranscript(run.transcript)}\n`);
  const record = toRecord(scenario, run, device, lab, transcriptFile);
  appendRecord(join(outDir, RESULTS_FILE), record);
  return { record, run };
}

/** Records a case that could not run because the device or lab is already broken. */
export function recordBlocked(
  device: OpenDevice,
  scenario: Scenario,
  outDir: string,
  lab: LabNetwork,
  why: string,
): CaseRecord {
  const at = new Date().toISOString();
  const record: CaseRecord = {
    case: scenario.id,
    title: scenario.title,
    params: { ...scenario.settings, dialHost: lab.dialHost, keyType: scenario.certs.keyType },
    outcome: 'blocked',
    reason: why,
    verdicts: Object.fromEntries(PROFILE_NAMES.map((p) => [p, 'blocked'])),
    codes: [],
    server: summarizeServer([]),
    device: {
      label: device.label,
      model: device.identity.model,
      firmware: device.identity.firmware,
      reached: { tlsOpened: false, mqttConnected: false, publishAcked: false },
      error: null,
      healthy: false,
    },
    certs: { anchors: [], served: [] },
    transcriptFile: null,
    startedAt: at,
    endedAt: at,
  };
  appendRecord(join(outDir, RESULTS_FILE), record);
  return record;
}
