import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type OpenDevice, openDevice } from '../harness/runner/device.ts';
import { executeScenario, recordBlocked } from './execute.ts';
import { runConfigFromEnv } from './run-config.ts';
import { SCENARIOS } from './scenarios.ts';

/** Valid chain, right CA: if this fails the device or the lab is broken and the rest is blocked. */
const SANITY_CASE = 'anchors::right-ca';

const config = runConfigFromEnv();
let device: OpenDevice;
/** Sticky: once set, every later case is recorded as blocked instead of run. */
let broken: string | null = null;

beforeAll(async () => {
  device = await openDevice({
    device: config.device,
    driver: config.driver,
    personality: config.personality,
  });
  writeFileSync(
    join(config.outDir, 'run.json'),
    `${JSON.stringify({ device: device.label, identity: device.identity, lab: config.lab, startedAt: new Date().toISOString() }, null, 2)}\n`,
  );
}, 30_000);

afterAll(async () => {
  await device?.close();
});

describe(`conformance on ${config.device ?? `virtual modem (${config.personality})`}`, () => {
  test.for(SCENARIOS.map((s) => [s.id, s] as const))('%s', async ([, scenario], ctx) => {
    if (broken) {
      recordBlocked(device, scenario, config.outDir, config.lab, broken);
      ctx.skip(`blocked: ${broken}`);
    }
    const { record, run } = await executeScenario(device, scenario, config.outDir, config.lab);
    if (!record.device.healthy) broken = `device unhealthy after ${scenario.id}: ${record.device.error}`;
    if (scenario.id === SANITY_CASE && record.outcome !== 'accepted') {
      broken = `sanity case ${SANITY_CASE} was ${record.outcome}: ${record.reason}`;
    }

    // The evidence on both sides must agree with the outcome before any verdict is trusted.
    if (record.outcome === 'accepted') {
      expect(record.server.mqttConnect?.clientId, 'broker saw the device CONNECT').toBe(run.mqtt.clientId);
      expect(record.server.publishes, 'broker saw the device PUBLISH').toContainEqual({
        topic: run.mqtt.topic,
        payload: run.mqtt.payload,
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
