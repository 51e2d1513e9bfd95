import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatTranscript } from '../harness/at/transcript.ts';
import { type DeviceRequest, type OpenDevice, openDevice } from '../harness/runner/device.ts';
import { catalogueRevision } from '../reports/catalogue-revision.ts';
import type { CaseRecord } from '../reports/record.ts';
import { latestPerCase, RESULTS_FILE, readRecords } from '../reports/results-log.ts';
import { recordedCases } from '../reports/resume.ts';
import { recordDeviceIdentity } from '../reports/run-manifest.ts';
import { selectShard } from '../reports/shard.ts';
import { executeCase, recordBlocked, recordSkipped } from './execute.ts';
import { type FeatureState, featureFromProbe, missingFeature } from './features.ts';
import { checkHealthAfterFault, HEALTH_CHECKS_FILE } from './health-check.ts';
import { defaultMatrix, fullMatrix } from './matrix.ts';
import { labNames, labPublicRootPem, sanityOnLab, virtualLabNetwork } from './plan-case.ts';
import { runPublicProbe } from './public-probe.ts';
import { executeRotationCase, recordRotationWithout, selectRotation, splitCasePatterns } from './rotation.ts';
import { runConfigFromEnv } from './run-config.ts';
import type { Feature, MatrixCase, Phase } from './scenario-model.ts';
import { SANITY, SCENARIOS } from './scenarios.ts';
import { selectCases } from './select-cases.ts';
import { executeSessionCase, recordSessionWithout, selectSessions } from './sessions.ts';
import { writeTrustModel } from './trust-model.ts';

const config = runConfigFromEnv();
const patterns = splitCasePatterns(config.cases);
const matrix = selectCases(config.full ? fullMatrix() : defaultMatrix(), patterns.matrix);
const cases = selectShard(matrix, (c) => c.id, config.shard, new Set([SANITY]));
/** CA rotation runs after the catalogue, on the same device (suites/rotation.ts says why by default). */
const rotation = selectShard(selectRotation(patterns.rotation), (s) => s.id, config.shard);
/** TLS session resumption, after rotation: each case is the ordinary case run twice on one server. */
const sessions = selectShard(selectSessions(patterns.sessions), (s) => s.id, config.shard);
/** A resumed run replays what results.jsonl already holds instead of running it again. */
const recorded = recordedCases(config.outDir);
let device: OpenDevice;
/** Sticky: once set, every later case is recorded as blocked instead of run. */
let broken: string | null = null;

/**
 * A case left the device faulty (restarted, hung, port lost; its record says so): check its health
 * before the next. Healthy again, the run goes on; otherwise the rest is blocked with both reasons.
 * The check's own AT exchange is kept beside the cases' transcripts.
 */
async function healthCheckAfter(caseId: string, fault: string | null): Promise<void> {
  const mark = device.transcript.mark();
  const check = await checkHealthAfterFault(device);
  writeRunTranscript(`health-after-${caseId.replace(/[^A-Za-z0-9._-]+/g, '_')}`, mark);
  appendFileSync(
    join(config.outDir, HEALTH_CHECKS_FILE),
    `${JSON.stringify({ after: caseId, fault, healthy: check.ok, detail: check.detail, at: new Date().toISOString() })}\n`,
  );
  if (!check.ok) broken = `device unhealthy after ${caseId}: ${fault}; health check: ${check.detail}`;
}
/** What the probes showed; a case needing an absent feature is skipped with the reason. */
const features = new Map<Feature, FeatureState>();

/** The virtual modem resolves the catalogue's names to the lab; a real modem uses its carrier's DNS. */
async function deviceRequest(): Promise<DeviceRequest> {
  const owned = {
    ...(config.owned ? { owned: config.owned } : {}),
    ...(config.baud ? { baud: config.baud } : {}),
    ...(config.fromScratch ? { delta: false } : {}),
  };
  if (config.device) return { device: config.device, driver: config.driver, runDir: config.outDir, ...owned };
  // The personality's built-in store holds the lab's stand-in for a public root (used only by
  // personalities whose anchors include the store); the device's own API decides what it honours.
  return {
    driver: config.driver,
    ...owned,
    ...(config.personality ? { personality: config.personality } : {}),
    ...(config.engine ? { virtualModem: { engine: config.engine } } : {}),
    network: virtualLabNetwork(config.lab),
    builtinAnchorsPem: await labPublicRootPem(),
  };
}

beforeAll(async () => {
  mkdirSync(config.outDir, { recursive: true });
  device = await openDevice(await deviceRequest());
  writeRunTranscript('run-start', 0);
  recordDeviceIdentity(config.outDir, device, {
    lab: config.lab,
    catalogue: { revision: catalogueRevision(SCENARIOS), cases: SCENARIOS.length },
    plannedCases: [...cases.map((c) => c.id), ...rotation.map((s) => s.id), ...sessions.map((s) => s.id)],
  });
}, 60_000);

/** What the run itself said to the device (identity, a replayed journal, the end-of-run restore), beside the cases'. */
function writeRunTranscript(name: string, mark: number): void {
  mkdirSync(join(config.outDir, 'transcripts'), { recursive: true });
  writeFileSync(
    join(config.outDir, 'transcripts', `${name}.txt`),
    `${formatTranscript(device.transcript.since(mark))}\n`,
  );
}

afterAll(async () => {
  if (device) {
    // Settings persist between cases (delta configuration): the run puts them back once, here.
    const mark = device.transcript.mark();
    const failures = await device.restore();
    for (const f of failures) device.transcript.record('note', `not restored: ${f}`);
    writeRunTranscript('run-end', mark);
    await device.close();
    if (failures.length > 0) throw new Error(`end-of-run restore failed: ${failures.join('; ')}`);
  }
  const file = join(config.outDir, RESULTS_FILE);
  // The trust model rests on every record of the run folder, including those of earlier sessions.
  if (existsSync(file)) writeTrustModel(config.outDir, latestPerCase(readRecords(file)));
});

const PHASES: readonly Phase[] = ['sanity', 'probe', 'catalogue'];
const label =
  config.device ?? `virtual ${config.driver} modem (${config.personality ?? 'its default personality'})`;

async function runOne(c: MatrixCase): Promise<{ record: CaseRecord; skipped: string | null }> {
  const prior = recorded.get(c.id);
  if (prior) return { record: prior, skipped: prior.outcome === 'skipped' ? prior.reason : null };
  if (broken)
    return {
      record: recordBlocked(device, c, config.outDir, config.lab, broken),
      skipped: `blocked: ${broken}`,
    };
  const missing = missingFeature(c.scenario, features);
  if (missing)
    return { record: recordSkipped(device, c, config.outDir, config.lab, missing), skipped: missing };
  if (config.settleMs) await sleep(config.settleMs);
  const planned = c.id === SANITY ? sanityOnLab(c, labNames(config.lab, device.virtual)) : c;
  const { record } = await executeCase(device, planned, config.outDir, config.lab, {
    publishStage: config.progress ?? false,
    checkTwin: true,
    ...(config.attempts ? { attempts: config.attempts } : {}),
  });
  return { record, skipped: record.outcome === 'skipped' ? record.reason : null };
}

describe(`conformance on ${label}`, () => {
  describe.each(PHASES.filter((p) => cases.some((c) => c.scenario.phase === p)))('%s', (phase) => {
    test.for(cases.filter((c) => c.scenario.phase === phase).map((c) => [c.id, c] as const))(
      '%s',
      { timeout: 600_000 },
      async ([, c], ctx) => {
        const { record, skipped } = await runOne(c);
        if (!record.device.healthy && record.outcome !== 'blocked')
          await healthCheckAfter(c.id, record.device.error);
        if (c.id === SANITY && record.outcome !== 'accepted') {
          broken = `sanity case ${SANITY} was ${record.outcome}: ${record.reason}`;
        }
        const shown = featureFromProbe(record);
        if (shown) features.set(...shown);
        if (skipped) ctx.skip(skipped);

        // The evidence on both sides must agree with the outcome before any verdict is trusted.
        if (record.outcome === 'accepted' && record.server.serverHelloTampered) {
          // A changed ServerHello never completes: going on past it shows as the device's key exchange.
          expect(record.server.wire?.clientKeyExchange, 'server saw the device key exchange').toBe(true);
        } else if (record.outcome === 'accepted') {
          expect(record.server.mqttConnect?.clientId, 'broker saw the device CONNECT').toBe(
            record.mqtt?.clientId,
          );
          expect(record.server.publishes, 'broker saw the device PUBLISH').toContainEqual({
            topic: record.mqtt?.topic,
            payload: record.mqtt?.payload,
          });
        }
        if (record.outcome === 'rejected') {
          expect(record.server.mqttConnect, 'no MQTT CONNECT reached the broker').toBeNull();
          // Refused before dialling: the device's own answer is the evidence, and the server saw nothing.
          if (record.device.anchorRefused)
            expect(record.server.connections, 'a refused anchor was never dialled with').toBe(0);
          else
            expect(
              ['client-alert', 'closed-without-alert', 'completed', 'server-error'],
              'server recorded how the handshake ended',
            ).toContain(record.server.handshake);
        }
        expect(record.outcome, record.reason).not.toBe('inconclusive');
        // A case the reference clients do not confirm tests nothing: that is a lab or catalogue bug.
        expect(record.verdicts.rfc5280, record.reason).not.toBe('control-failed');
        for (const v of Object.values(record.verdicts))
          expect(['conformant', 'lenient', 'strict']).toContain(v);
      },
    );
  });
});

describe.runIf(rotation.length > 0)(`CA rotation on ${label}`, () => {
  test.for(rotation.map((s) => [s.id, s] as const))('%s', { timeout: 600_000 }, async ([, s], ctx) => {
    const prior = recorded.get(s.id);
    const record =
      prior ??
      (broken
        ? recordRotationWithout(device, s, config.outDir, config.lab, 'blocked', broken)
        : device.driver.runRotationCase
          ? await executeRotationCase(device, s, config.outDir, config.lab)
          : recordRotationWithout(
              device,
              s,
              config.outDir,
              config.lab,
              'skipped',
              `the ${device.driver.family} driver cannot express CA rotation`,
            ));
    if (!record.device.healthy && record.outcome !== 'blocked')
      await healthCheckAfter(s.id, record.device.error);
    if (record.outcome === 'skipped' || record.outcome === 'blocked') ctx.skip(record.reason);
    if (record.outcome === 'accepted') {
      expect(record.server.publishes, 'broker saw the rebound / rebooted device PUBLISH').toContainEqual({
        topic: record.mqtt?.topic,
        payload: record.mqtt?.payload,
      });
    }
    expect(record.outcome, record.reason).not.toBe('inconclusive');
    expect(record.verdicts.rfc5280, record.reason).not.toBe('control-failed');
  });
});

describe.runIf(sessions.length > 0)(`TLS session resumption on ${label}`, () => {
  test.for(sessions.map((s) => [s.id, s] as const))('%s', { timeout: 600_000 }, async ([, s], ctx) => {
    const record =
      recorded.get(s.id) ??
      (broken
        ? recordSessionWithout(device, s, config.outDir, config.lab, broken)
        : await executeSessionCase(device, s, config.outDir, config.lab));
    if (!record.device.healthy && record.outcome !== 'blocked')
      await healthCheckAfter(s.id, record.device.error);
    if (record.outcome === 'skipped' || record.outcome === 'blocked') ctx.skip(record.reason);
    if (record.outcome === 'accepted')
      expect(record.server.publishes, 'broker saw the second connection PUBLISH').toContainEqual({
        topic: record.mqtt?.topic,
        payload: record.mqtt?.payload,
      });
    expect(record.outcome, record.reason).not.toBe('inconclusive');
    expect(record.verdicts.rfc5280, record.reason).not.toBe('control-failed');
  });
});

// Real modems only, on request: the built-in-store question asked of real public brokers.
describe.runIf(config.publicProbe === true && config.device !== undefined)('public-broker probe', () => {
  test('a wrong CA uploaded against well-known public TLS brokers', { timeout: 600_000 }, async () => {
    const records = await runPublicProbe(device, config.outDir);
    expect(records.length).toBeGreaterThan(0);
  });
});
