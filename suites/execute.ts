import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientCertificateSeen, ConnectionObservation } from '../brokers/observation.ts';
import type { LabNetwork } from '../contracts/case.ts';
import { formatTranscript } from '../harness/at/transcript.ts';
import { inexpressible } from '../harness/drivers/tls-intent.ts';
import type { OpenDevice } from '../harness/runner/device.ts';
import {
  type CaseEndpoint,
  type CaseRun,
  runDeviceAgainst,
  startCaseEndpoint,
} from '../harness/runner/run-case.ts';
import type { CaseRecord, ServerSummary } from '../reports/record.ts';
import { appendRecord, RESULTS_FILE } from '../reports/results-log.ts';
import { atCommandName, writeStage } from '../reports/stage-file.ts';
import { type CaseControls, runCaseControls } from './case-controls.ts';
import { caseSpecFor, type LabNames, labNames, pkiFor } from './plan-case.ts';
import { PROFILE_NAMES } from './profiles.ts';
import type { DeviceSettings, MatrixCase } from './scenario-model.ts';
import { judge, type Verdict } from './verdict.ts';

export { RESULTS_FILE };

/** How many times a case that failed before TLS (PDP, DNS, TCP) is tried before it is reported. */
export const INCONCLUSIVE_ATTEMPTS = 3;

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
  };
}

const fileSlug = (caseId: string) => caseId.replace(/[^a-z0-9]+/gi, '_');

function baseRecord(c: MatrixCase, device: OpenDevice, lab: LabNetwork) {
  return {
    case: c.id,
    scenario: c.scenario.id,
    title: c.scenario.title,
    settings: c.settings,
    params: { ...c.settings, dialHost: lab.dialHost },
    expected: Object.fromEntries(PROFILE_NAMES.map((p) => [p, c.expected[p].result])),
    device: {
      label: device.label,
      model: device.identity.model,
      firmware: device.identity.firmware,
      reached: { tlsOpened: false, mqttConnected: false, publishAcked: false },
      error: null,
      healthy: true,
    },
  };
}

function lastTlsAttempt(run: CaseRun): SuiteRecord['virtualTls'] {
  const a = run.virtualTls.at(-1);
  if (!a) return null;
  const { engine, engineNote, verifyFlags, reason, sni, checkName, unsupported } = a;
  return { engine, engineNote, verifyFlags, reason, sni, checkName, unsupported: [...unsupported] };
}

function toRecord(
  c: MatrixCase,
  run: CaseRun,
  device: OpenDevice,
  lab: LabNetwork,
  controls: CaseControls,
  attempts: number,
  files: { transcriptFile: string; pemFile: string },
): SuiteRecord {
  const base = baseRecord(c, device, lab);
  const trusted = controls.check.ok;
  return {
    ...base,
    params: { ...base.params, dialledHost: run.hierarchy.dialledHost },
    outcome: run.outcome,
    reason: trusted ? run.reason : `${run.reason}; no verdict: ${controls.check.why}`,
    verdicts: Object.fromEntries(
      PROFILE_NAMES.map((p) => [p, trusted ? judge(run.outcome, c.expected[p].result) : 'control-failed']),
    ),
    codes: run.device.codes.map((code) => code.raw),
    urcs: run.device.urcs.map((u) => u.line),
    server: summarizeServer(run.server),
    device: {
      ...base.device,
      reached: run.device.reached,
      error: run.device.error,
      healthy: run.device.healthy,
    },
    certs: run.hierarchy.manifest,
    transcriptFile: files.transcriptFile,
    pemFile: files.pemFile,
    mqtt: run.mqtt,
    controls: controls.results.map((r) => ({ ...r })),
    controlCheck: controls.check,
    attempts,
    virtualTls: lastTlsAttempt(run),
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

export interface ExecuteOptions {
  readonly publishStage?: boolean;
  /** Attempts for a case that fails before TLS; default INCONCLUSIVE_ATTEMPTS. */
  readonly attempts?: number;
}

/**
 * The case's reference controls, run while the device works: against the same endpoint (same TLS
 * server, chain, key and broker) through a door of their own, so their connections never show in
 * what the server saw of the device. Settles to the controls or to the error, never rejects unobserved.
 */
function controlsBeside(
  c: MatrixCase,
  started: CaseEndpoint,
  names: LabNames,
  lab: LabNetwork,
): Promise<{ controls: CaseControls } | { error: unknown }> {
  const run = async () => {
    const door = await started.endpoint.listenAgain();
    try {
      return await runCaseControls(c, { hierarchy: started.hierarchy, endpoint: door }, names, lab);
    } finally {
      await door.stop();
    }
  };
  return run().then(
    (controls) => ({ controls }),
    (error: unknown) => ({ error }),
  );
}

/**
 * Runs one matrix case: the device once (again, up to `attempts`, while it fails before TLS) and,
 * meanwhile, the reference controls against the same endpoint and against the twin's. Writes the
 * transcript and PEM bundle, appends the record. A case whose controls do not confirm it gets no
 * verdict.
 */
export async function executeCase(
  device: OpenDevice,
  c: MatrixCase,
  outDir: string,
  lab: LabNetwork,
  options: ExecuteOptions = {},
): Promise<{ record: SuiteRecord; run: CaseRun | null }> {
  const names = labNames(lab, device.virtual);
  const placed = pkiFor(c.scenario, c.settings, names);
  if ('skip' in placed) return { record: recordSkipped(device, c, outDir, lab, placed.skip), run: null };
  const spec = caseSpecFor(c, placed.pki);
  const cannot = inexpressible(spec.intent, device.tls, device.driver.family);
  // A setting the device lacks: skipped before anything is sent, every profile not-applicable, never retried.
  if (cannot)
    return { record: recordWithout(device, c, outDir, lab, 'skipped', cannot, 'not-applicable'), run: null };
  const stopStages = options.publishStage ? publishStages(device, outDir, c.id) : () => {};
  const maxAttempts = Math.max(1, options.attempts ?? INCONCLUSIVE_ATTEMPTS);
  let run: CaseRun | undefined;
  let controlsRun: ReturnType<typeof controlsBeside> | undefined;
  let attempts = 0;
  try {
    while (attempts < maxAttempts) {
      attempts++;
      const started = await startCaseEndpoint(spec, lab);
      // The chain does not change between attempts: its controls run once, beside the first.
      const beside = controlsRun === undefined ? controlsBeside(c, started, names, lab) : null;
      if (beside) controlsRun = beside;
      try {
        run = await runDeviceAgainst(device, spec, started);
      } finally {
        // The controls' door is on this endpoint: it stays up until they are done.
        if (beside) await beside;
        await started.endpoint.stop();
      }
      const retry = run.outcome === 'inconclusive' && run.device.healthy && attempts < maxAttempts;
      if (!retry) break;
    }
  } finally {
    stopStages();
  }
  const settled = controlsRun ? await controlsRun : undefined;
  if (settled && 'error' in settled) throw settled.error;
  const controls = settled?.controls;
  if (!run || !controls) throw new Error(`case ${c.id} did not run`);
  const transcriptFile = join('transcripts', `${fileSlug(c.id)}.txt`);
  const pemFile = join('certs', `${fileSlug(c.id)}.pem`);
  mkdirSync(join(outDir, 'transcripts'), { recursive: true });
  mkdirSync(join(outDir, 'certs'), { recursive: true });
  writeFileSync(join(outDir, transcriptFile), `${formatTranscript(run.transcript)}\n`);
  // Public material only: what the device was given, then what the server sent. Never the key.
  writeFileSync(
    join(outDir, pemFile),
    `# trust anchors uploaded to the device\n${(run.hierarchy.anchorsPem ?? '# (none)\n').trim()}\n# chain served, leaf first\n${run.hierarchy.servedChainPem.trim()}\n`,
  );
  const record = toRecord(c, run, device, lab, controls, attempts, { transcriptFile, pemFile });
  appendRecord(join(outDir, RESULTS_FILE), record);
  return { record, run };
}

function recordWithout(
  device: OpenDevice,
  c: MatrixCase,
  outDir: string,
  lab: LabNetwork,
  outcome: 'blocked' | 'skipped',
  why: string,
  verdict: Verdict = outcome,
): SuiteRecord {
  const at = new Date().toISOString();
  const base = baseRecord(c, device, lab);
  const record: SuiteRecord = {
    ...base,
    device: { ...base.device, healthy: outcome !== 'blocked' },
    outcome,
    reason: why,
    verdicts: Object.fromEntries(PROFILE_NAMES.map((p) => [p, verdict])),
    codes: [],
    server: summarizeServer([]),
    certs: { anchors: [], served: [] },
    transcriptFile: null,
    startedAt: at,
    endedAt: at,
  };
  appendRecord(join(outDir, RESULTS_FILE), record);
  return record;
}

/** Records a case that could not run because the device or lab is already broken. */
export function recordBlocked(
  device: OpenDevice,
  c: MatrixCase,
  outDir: string,
  lab: LabNetwork,
  why: string,
): SuiteRecord {
  return recordWithout(device, c, outDir, lab, 'blocked', why);
}

/** Records a case skipped because it needs something the device or lab has not shown. */
export function recordSkipped(
  device: OpenDevice,
  c: MatrixCase,
  outDir: string,
  lab: LabNetwork,
  why: string,
): SuiteRecord {
  return recordWithout(device, c, outDir, lab, 'skipped', why);
}
