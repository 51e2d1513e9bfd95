import type { LabNetwork } from '../contracts/case.ts';
import { inexpressible } from '../harness/drivers/tls-intent.ts';
import type { OpenDevice } from '../harness/runner/device.ts';
import {
  type CaseEndpoint,
  type CaseRun,
  runCase,
  runDeviceAgainst,
  startCaseEndpoint,
} from '../harness/runner/run-case.ts';
import { RESULTS_FILE } from '../reports/results-log.ts';
import { atCommandName, writeStage } from '../reports/stage-file.ts';
import { type CaseControls, runCaseControls } from './case-controls.ts';
import {
  appendCaseRecord,
  attemptsTranscript,
  type RecordSubject,
  recordHeader,
  recordNotRun,
  type SuiteRecord,
  summarizeServer,
  verdictsFor,
  writeCaseFiles,
} from './case-record.ts';
import {
  type Judgement,
  type JudgeOptions,
  judgeAttempts,
  judgeBothEnds,
  neverDialledAlike,
  type TwinSeen,
} from './judge.ts';
import { serverKeyOf } from './key-offer.ts';
import { twinCaseOf } from './matrix.ts';
import { caseSpecFor, type LabNames, labNames, pkiFor } from './plan-case.ts';
import type { MatrixCase } from './scenario-model.ts';

export { RESULTS_FILE };

/** How many times a case that failed before TLS (PDP, DNS, TCP) is tried before it is reported. */
export const INCONCLUSIVE_ATTEMPTS = 3;

const subjectOf = (c: MatrixCase): RecordSubject => ({
  id: c.id,
  scenario: c.scenario.id,
  title: c.scenario.title,
  settings: c.settings,
  expected: c.expected,
});

/** The virtual modem's last handshake of a run, for the record (null on a real device). */
export function lastTlsAttempt(run: CaseRun): SuiteRecord['virtualTls'] {
  const a = run.virtualTls.at(-1);
  if (!a) return null;
  const { engine, engineNote, verifyFlags, reason, sni, checkName, unsupported } = a;
  return { engine, engineNote, verifyFlags, reason, sni, checkName, unsupported: [...unsupported] };
}

function toRecord(
  c: MatrixCase,
  run: CaseRun,
  judged: Judgement,
  device: OpenDevice,
  lab: LabNetwork,
  controls: CaseControls,
  attempts: number,
  files: { transcriptFile: string; pemFile: string },
): SuiteRecord {
  const subject = subjectOf(c);
  const header = recordHeader(subject, device, lab);
  const trusted = controls.check.ok;
  const anchorRefused = run.device.anchorRefused ?? judged.anchorRefused;
  return {
    ...header,
    params: { ...header.params, dialledHost: run.hierarchy.dialledHost },
    outcome: judged.outcome,
    reason: trusted ? judged.reason : `${judged.reason}; no verdict: ${controls.check.why}`,
    // A case the lab could not serve to this device asks the device nothing: not-applicable.
    verdicts:
      judged.outcome === 'skipped'
        ? Object.fromEntries(Object.keys(subject.expected).map((p) => [p, 'not-applicable']))
        : verdictsFor(subject, judged.outcome, trusted),
    codes: run.device.codes.map((code) => code.raw),
    urcs: run.device.urcs.map((u) => u.line),
    server: summarizeServer(run.server),
    device: {
      ...header.device,
      reached: run.device.reached,
      error: run.device.error,
      healthy: run.device.healthy,
      ...(anchorRefused ? { anchorRefused } : {}),
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

/** Whether the case sets what the server negotiates (versions, suites, client authentication), so its refusal is part of the case. */
function serverShapesCase(c: MatrixCase): boolean {
  const s = c.settings;
  return (
    Object.keys(c.scenario.server).length > 0 ||
    s.seclevel === 2 ||
    s.sslversion !== 4 ||
    s.ciphersuite.toUpperCase() !== '0XFFFF'
  );
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
  /**
   * Run the case's passing twin on the device when the case never dialled the same way on every
   * attempt: if the twin connects, the anchor (the only difference) was refused before connecting.
   */
  readonly checkTwin?: boolean;
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
 * The case's passing twin, run once on the device now (its own endpoint, no controls, no record):
 * whether it connected from both ends, and when. Null when the case has no twin or it cannot be placed.
 */
async function twinOnDevice(device: OpenDevice, c: MatrixCase, lab: LabNetwork): Promise<TwinSeen | null> {
  const twin = twinCaseOf(c);
  if (!twin) return null;
  const placed = pkiFor(twin.scenario, twin.settings, labNames(lab, device.virtual));
  if ('skip' in placed) return null;
  const run = await runCase(device, caseSpecFor(twin, placed.pki), lab);
  const judged = judgeBothEnds(run.device, run.server, run.mqtt.clientId);
  return { case: twin.id, accepted: judged.outcome === 'accepted', endedAt: run.endedAt };
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
    return {
      record: recordNotRun(device, subjectOf(c), outDir, lab, 'skipped', cannot, 'not-applicable'),
      run: null,
    };
  let judging: JudgeOptions = {
    serverShapesCase: serverShapesCase(c),
    ...(c.scenario.server.serverHelloTamper
      ? { serverHelloTamper: c.scenario.server.serverHelloTamper }
      : {}),
  };
  const stopStages = options.publishStage ? publishStages(device, outDir, c.id) : () => {};
  const maxAttempts = Math.max(1, options.attempts ?? INCONCLUSIVE_ATTEMPTS);
  const tried: CaseRun[] = [];
  let judged: Judgement | undefined;
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
        tried.push(await runDeviceAgainst(device, spec, started));
      } finally {
        // The controls' door is on this endpoint: it stays up until they are done.
        if (beside) await beside;
        await started.endpoint.stop();
      }
      const run = tried[tried.length - 1] as CaseRun;
      judging = { ...judging, serverKey: serverKeyOf(run.hierarchy.servedChainPem) };
      judged = judgeAttempts(tried, run.mqtt.clientId, undefined, judging);
      const retry = judged.outcome === 'inconclusive' && run.device.healthy && attempts < maxAttempts;
      if (!retry) break;
    }
    if (options.checkTwin && judged?.outcome === 'inconclusive' && neverDialledAlike(tried)) {
      // The twin is extra evidence: if it cannot run, the case stays inconclusive and says why.
      const twin = await twinOnDevice(device, c, lab).catch((e: unknown) => (e as Error).message);
      if (typeof twin === 'string')
        judged = { ...judged, reason: `${judged.reason}; its twin could not be run: ${twin}` };
      else if (twin?.accepted)
        judged = judgeAttempts(tried, (tried.at(-1) as CaseRun).mqtt.clientId, twin, judging);
      else if (twin)
        judged = {
          ...judged,
          reason: `${judged.reason}; its twin ${twin.case}, run right after, did not connect either`,
        };
    }
  } finally {
    stopStages();
  }
  const settled = controlsRun ? await controlsRun : undefined;
  if (settled && 'error' in settled) throw settled.error;
  const controls = settled?.controls;
  const run = tried.at(-1);
  if (!run || !judged || !controls) throw new Error(`case ${c.id} did not run`);
  const transcript = attemptsTranscript(tried);
  const files = writeCaseFiles(outDir, c.id, transcript, [
    ['trust anchors uploaded to the device', run.hierarchy.anchorsPem],
    ['chain served, leaf first', run.hierarchy.servedChainPem],
  ]);
  const record = appendCaseRecord(outDir, toRecord(c, run, judged, device, lab, controls, attempts, files));
  return { record, run };
}

/** Records a case that could not run because the device or lab is already broken. */
export function recordBlocked(
  device: OpenDevice,
  c: MatrixCase,
  outDir: string,
  lab: LabNetwork,
  why: string,
): SuiteRecord {
  return recordNotRun(device, subjectOf(c), outDir, lab, 'blocked', why);
}

/** Records a case skipped because it needs something the device or lab has not shown. */
export function recordSkipped(
  device: OpenDevice,
  c: MatrixCase,
  outDir: string,
  lab: LabNetwork,
  why: string,
): SuiteRecord {
  return recordNotRun(device, subjectOf(c), outDir, lab, 'skipped', why);
}
