import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type OpenDevice, openDevice } from '../harness/runner/device.ts';
import { annotateAllure } from '../reports/allure-annotations.ts';
import { catalogueRevision } from '../reports/catalogue-revision.ts';
import { recordedCases } from '../reports/resume.ts';
import { recordDeviceIdentity } from '../reports/run-manifest.ts';
import { selectShard } from '../reports/shard.ts';
import { executeScenario, recordBlocked } from './execute.ts';
import { runConfigFromEnv } from './run-config.ts';
import { SCENARIOS } from './scenarios.ts';

/** Valid chain, right CA: if this fails the device or the lab is broken and the rest is blocked. */
const SANITY_CASE = 'anchors::right-ca';

const config = runConfigFromEnv();
const cases = selectShard(SCENARIOS, (s) => s.id, config.shard, new Set([SANITY_CASE]));
/** A resumed run replays what results.jsonl already holds instead of running it again. */
const recorded = recordedCases(config.outDir);
let device: OpenDevice;
/** Sticky: once set, every later case is recorded as blocked instead of run. */
let broken: string | null = null;

beforeAll(async () => {
  device = await openDevice({
    device: config.device,
    driver: config.driver,
    personality: config.personality,
  });
  recordDeviceIdentity(config.outDir, device, {
    lab: config.lab,
    catalogue: { revision: catalogueRevision(SCENARIOS), cases: SCENARIOS.length },
    plannedCases: cases.map((s) => s.id),
  });
}, 30_000);

afterAll(async () => {
  await device?.close();
});

describe(`conformance on ${config.device ?? `virtual modem (${config.personality})`}`, () => {
  test.for(cases.map((s) => [s.id, s] as const))('%s', async ([, scenario], ctx) => {
    const prior = recorded.get(scenario.id);
    if (!prior && broken) {
      recordBlocked(device, scenario, config.outDir, config.lab, broken);
      ctx.skip(`blocked: ${broken}`);
    }
    if (!prior && config.settleMs) await sleep(config.settleMs);
    const record =
      prior ??
      (
        await executeScenario(device, scenario, config.outDir, config.lab, {
          publishStage: config.progress ?? false,
        })
      ).record;
    if (config.allure) await annotateAllure(record, config.outDir);
    if (!record.device.healthy) broken = `device unhealthy after ${scenario.id}: ${record.device.error}`;
    if (scenario.id === SANITY_CASE && record.outcome !== 'accepted') {
      broken = `sanity case ${SANITY_CASE} was ${record.outcome}: ${record.reason}`;
    }

    // The evidence on both sides must agree with the outcome before any verdict is trusted.
    if (record.outcome === 'accepted') {
      expect(record.server.mqttConnect?.clientId, 'broker saw the device CONNECT').toBe(
        record.mqtt?.clientId,
      );
      expect(record.server.publishes, 'broker saw the device PUBLISH').toContainEqual({
        topic: record.mqtt?.topic,
        payload: record.mqtt?.payload,
      });
    }
    if (record.outcome === 'rejected') {
      expect(
        record.codes.some((c) => /^\+QMTOPEN: \d,(?!0$)/.test(c)),
        'modem reported an open failure',
      ).toBe(true);
      expect(record.server.mqttConnect, 'no MQTT CONNECT reached the broker').toBeNull();
      expect(
        ['client-alert', 'closed-without-alert', 'completed'],
        'server recorded how the handshake ended',
      ).toContain(record.server.handshake);
      expect(record.server.closedBy, 'the client ended the connection').toBe('client');
    }
    expect(record.outcome, record.reason).not.toBe('inconclusive');
    expect(record.verdicts.rfc5280, `${record.outcome}: ${record.reason}`).toBe('conformant');
  });
});
