import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionObservation } from '../brokers/observation.ts';
import { formatTranscript } from '../harness/at/transcript.ts';
import type { OpenDevice } from '../harness/runner/device.ts';
import { type CaseRun, type LabNetwork, runCase } from '../harness/runner/run-case.ts';
import type { CaseRecord, ServerSummary } from '../reports/record.ts';
import { appendRecord, RESULTS_FILE } from '../reports/results-log.ts';
import { atCommandName, writeStage } from '../reports/stage-file.ts';
import { PROFILE_NAMES } from './profiles.ts';
import type { Scenario } from './scenarios.ts';
import { judge } from './verdict.ts';

export { RESULTS_FILE };

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

const fileSlug = (caseId: string) => caseId.replace(/[^a-z0-9]+/gi, '_');

function toRecord(
  scenario: Scenario,
  run: CaseRun,
  device: OpenDevice,
  lab: LabNetwork,
  files: { transcriptFile: string; pemFile: string },
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
    transcriptFile: files.transcriptFile,
    pemFile: files.pemFile,
    mqtt: run.mqtt,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
  };
}

/**
 * Publishes the last AT command sent while a case runs, for the progress display. Polls the
 * transcript instead of hooking the driver, so it works for every driver unchanged.
 */
function publishStages(device: OpenDevice, outDir: string, caseId: string): () => void {
  const mark = device.transcript.mark();
  let shown = '';
  const tick = () => {
    const sent = device.transcript.since(mark).filter((e) => e.dir === 'tx');
    const stage = atCommandName(sent.at(-1)?.data ?? '') ?? 'preparing certificates and endpoint';
    if (stage === shown) return;
    shown = stage;
    writeStage(outDir, { case: caseId, stage, at: Date.now() });
  };
  tick();
  const timer = setInterval(tick, 200);
  return () => clearInterval(timer);
}

/** Runs a scenario on the device, writes its transcript and PEM bundle, appends its record. */
export async function executeScenario(
  device: OpenDevice,
  scenario: Scenario,
  outDir: string,
  lab: LabNetwork,
  options: { publishStage?: boolean } = {},
): Promise<{ record: CaseRecord; run: CaseRun }> {
  const stopStages = options.publishStage ? publishStages(device, outDir, scenario.id) : () => {};
  let run: CaseRun;
  try {
    run = await runCase(device, scenario, lab);
  } finally {
    stopStages();
  }
  const transcriptFile = join('transcripts', `${fileSlug(scenario.id)}.txt`);
  const pemFile = join('certs', `${fileSlug(scenario.id)}.pem`);
  mkdirSync(join(outDir, 'transcripts'), { recursive: true });
  mkdirSync(join(outDir, 'certs'), { recursive: true });
  writeFileSync(join(outDir, transcriptFile), `${formatTranscript(run.transcript)}\n`);
  // Public material only: what the device was given, then what the server sent. Never the key.
  writeFileSync(
    join(outDir, pemFile),
    `# trust anchors uploaded to the device\n${run.hierarchy.anchorsPem.trim()}\n# chain served, leaf first\n${run.hierarchy.servedChainPem.trim()}\n`,
  );
  const record = toRecord(scenario, run, device, lab, { transcriptFile, pemFile });
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
