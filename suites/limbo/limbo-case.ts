import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { summarize } from '../../certs/build.ts';
import { pemCertificates } from '../../certs/pem.ts';
import type { CertSummary } from '../../certs/spec.ts';
import type { LabNetwork } from '../../contracts/case.ts';
import { DEFAULT_INTENT, inexpressible } from '../../harness/drivers/tls-intent.ts';
import type { OpenDevice } from '../../harness/runner/device.ts';
import {
  type CaseHierarchy,
  type CaseRun,
  runDeviceAgainst,
  startEndpointFor,
} from '../../harness/runner/run-case.ts';
import { LIMBO_VERDICT } from '../../reports/limbo/limbo-results.ts';
import type { CaseRecord } from '../../reports/record.ts';
import { appendRecord, RESULTS_FILE } from '../../reports/results-log.ts';
import { attemptsTranscript, deviceHeaderOf, summarizeServer, writeCaseFiles } from '../case-record.ts';
import { INCONCLUSIVE_ATTEMPTS } from '../execute.ts';
import { type Judgement, judgeAttempts } from '../judge.ts';
import { serverKeyOf } from '../key-offer.ts';
import type { LimboPlan } from './limbo-plan.ts';
import type { LimboTestcase } from './limbo-suite.ts';
import { serverCanServe } from './serve-check.ts';

/**
 * One limbo case on a device: the case's anchors uploaded, its peer chain served exactly as listed
 * with its key, its peer name dialled, the device clock at its validation time; the outcome comes
 * from both ends (suites/judge.ts) and limbo's expectation is the verdict's yardstick.
 */

/** A manifest line per certificate; one Node cannot parse (limbo has such on purpose) keeps its hash. */
function summaries(pem: string): CertSummary[] {
  return pemCertificates(pem).map((block) => {
    try {
      return summarize(block);
    } catch (error) {
      const der = Buffer.from(block.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      const hash = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)?.join(':') ?? '';
      const why = `(not parsed by Node: ${(error as Error).message})`;
      return { subject: why, issuer: why, serial: '', notBefore: '', notAfter: '', sha256: hash };
    }
  });
}

export function hierarchyOf(plan: LimboPlan): CaseHierarchy {
  return {
    anchorsPem: plan.anchorsPem,
    servedChainPem: plan.servedChainPem,
    serverKeyPem: plan.keyPem,
    issuingRootPem: plan.anchorsPem,
    clock: plan.clock,
    dialledHost: plan.dial,
    client: null,
    manifest: { anchors: summaries(plan.anchorsPem), served: summaries(plan.servedChainPem) },
  };
}

export type LimboVerdict =
  | 'conformant'
  | 'lenient'
  | 'strict'
  | 'inconclusive'
  | 'blocked'
  | 'not-applicable';

/** limbo's expectation against what the device did: an unexpected success is lenient, an unexpected failure strict. */
export function limboVerdict(outcome: CaseRecord['outcome'], expected: 'SUCCESS' | 'FAILURE'): LimboVerdict {
  if (outcome === 'accepted') return expected === 'SUCCESS' ? 'conformant' : 'lenient';
  if (outcome === 'rejected') return expected === 'FAILURE' ? 'conformant' : 'strict';
  if (outcome === 'skipped') return 'not-applicable';
  return outcome;
}

/** What the case's record says of the limbo case itself, beside the device's settings. */
function paramsOf(c: LimboTestcase, plan: LimboPlan | null, lab: LabNetwork, engine: string) {
  return {
    expected_result: c.expected_result,
    ...(plan
      ? {
          dial: plan.dial,
          dialKind: plan.dialKind,
          deviceClock: plan.clock.toISOString(),
          clockFrom: plan.clockFrom,
          anchors: plan.anchorCount,
        }
      : {}),
    dialHost: lab.dialHost,
    engine,
  };
}

const titleOf = (c: LimboTestcase) => (c.description.split('\n').find((l) => l.trim()) ?? c.id).slice(0, 200);

/** A limbo case that did not run: skipped (with the reason) or blocked by an earlier failure. */
export function recordLimboNotRun(
  device: OpenDevice,
  c: LimboTestcase,
  outDir: string,
  lab: LabNetwork,
  engine: string,
  outcome: 'skipped' | 'blocked',
  why: string,
): CaseRecord {
  const at = new Date().toISOString();
  const record: CaseRecord = {
    case: c.id,
    title: titleOf(c),
    params: paramsOf(c, null, lab, engine),
    outcome,
    reason: why,
    verdicts: { [LIMBO_VERDICT]: limboVerdict(outcome, c.expected_result) },
    codes: [],
    server: summarizeServer([]),
    device: { ...deviceHeaderOf(device), healthy: outcome !== 'blocked' },
    certs: { anchors: [], served: [] },
    transcriptFile: null,
    startedAt: at,
    endedAt: at,
  };
  appendRecord(join(outDir, RESULTS_FILE), record);
  return record;
}

/** Runs one planned limbo case on the device (again while it fails before TLS) and appends its record. */
export async function executeLimboCase(
  device: OpenDevice,
  c: LimboTestcase,
  plan: LimboPlan,
  outDir: string,
  lab: LabNetwork,
  engine: string,
  attempts: number = INCONCLUSIVE_ATTEMPTS,
): Promise<CaseRecord> {
  const cannot = inexpressible(DEFAULT_INTENT, device.tls, device.driver.family);
  const skip = (why: string) => recordLimboNotRun(device, c, outDir, lab, engine, 'skipped', why);
  if (cannot) return skip(cannot);
  const hierarchy = hierarchyOf(plan);
  const spec = { id: c.id, intent: DEFAULT_INTENT, clock: plan.clock };
  const tried: CaseRun[] = [];
  let judged: Judgement | undefined;
  while (tried.length < Math.max(1, attempts)) {
    let started: Awaited<ReturnType<typeof startEndpointFor>>;
    try {
      started = await startEndpointFor(hierarchy, {}, lab);
    } catch (error) {
      // The lab's own TLS server refuses the certificate or key: nothing was asked of the device.
      return skip(
        `the lab's TLS server (Node tls) cannot serve this certificate and key: ${(error as Error).message}`,
      );
    }
    try {
      if (tried.length === 0) {
        const serves = await serverCanServe(started.endpoint, plan.dial);
        if (!serves.ok)
          return skip(
            `the lab's TLS server (Node tls) cannot serve this certificate and key: a client verifying nothing could not complete a handshake (${serves.why})`,
          );
      }
      tried.push(await runDeviceAgainst(device, spec, started));
    } finally {
      await started.endpoint.stop();
    }
    const run = tried.at(-1) as CaseRun;
    // limbo's cases set no TLS parameters: a handshake the server aborts is the lab's, not the device's.
    judged = judgeAttempts(tried, run.mqtt.clientId, undefined, {
      serverShapesCase: false,
      serverKey: serverKeyOf(run.hierarchy.servedChainPem),
    });
    if (judged.outcome !== 'inconclusive' || !run.device.healthy) break;
  }
  const run = tried.at(-1) as CaseRun;
  const outcome = (judged as Judgement).outcome;
  const files = writeCaseFiles(outDir, c.id, attemptsTranscript(tried), [
    [`trust anchors uploaded to the device (${plan.anchorCount} in one file)`, plan.anchorsPem],
    [
      'chain served, exactly as limbo lists it: peer certificate, then untrusted_intermediates',
      plan.servedChainPem,
    ],
  ]);
  const tls = run.virtualTls.at(-1);
  const anchorRefused = run.device.anchorRefused ?? (judged as Judgement).anchorRefused;
  const record: CaseRecord = {
    case: c.id,
    title: titleOf(c),
    params: paramsOf(c, plan, lab, engine),
    outcome,
    reason: (judged as Judgement).reason,
    verdicts: { [LIMBO_VERDICT]: limboVerdict(outcome, c.expected_result) },
    codes: run.device.codes.map((code) => code.raw),
    urcs: run.device.urcs.map((u) => u.line),
    server: summarizeServer(run.server),
    device: {
      ...deviceHeaderOf(device),
      reached: run.device.reached,
      error: run.device.error,
      healthy: run.device.healthy,
      ...(anchorRefused ? { anchorRefused } : {}),
    },
    certs: hierarchy.manifest,
    transcriptFile: files.transcriptFile,
    pemFile: files.pemFile,
    mqtt: run.mqtt,
    virtualTls: tls
      ? {
          engine: tls.engine,
          engineNote: tls.engineNote,
          verifyFlags: tls.verifyFlags,
          reason: tls.reason,
          sni: tls.sni,
          checkName: tls.checkName,
          unsupported: [...tls.unsupported],
        }
      : null,
    startedAt: (tried[0] as CaseRun).startedAt,
    endedAt: run.endedAt,
  };
  appendRecord(join(outDir, RESULTS_FILE), record);
  return record;
}
