import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUN_CONFIG_VARIABLE, type RunConfig, runConfigFromEnv } from './run-config.ts';

/** Every field of the type, filled: tsc refuses this object when RunConfig gains a field it lacks. */
const FULL: Required<RunConfig> = {
  device: 'tcp://127.0.0.1:4001',
  driver: 'quectel',
  owned: { filePrefix: 'lab_', sslContext: 2, mqttClient: 3, secTags: { first: 1, count: 2 } },
  personality: 'strict',
  engine: 'gnutls',
  outDir: '/tmp/run',
  lab: { dialHost: '127.0.0.1', dialName: 'broker.lab.test', listenHost: '127.0.0.1' },
  shard: { index: 1, count: 2 },
  settleMs: 0,
  progress: true,
  full: false,
  cases: ['anchors::*'],
  publicProbe: false,
  attempts: 3,
  baud: 115_200,
  fromScratch: true,
};

const env = (value: unknown) => ({ [RUN_CONFIG_VARIABLE]: JSON.stringify(value) });

describe('TRUSTLAB_RUN is validated, not cast', () => {
  it('the schema names exactly the fields of RunConfig, and a full config passes', () => {
    const schema = JSON.parse(readFileSync(new URL('./run-config.schema.json', import.meta.url), 'utf8')) as {
      properties: object;
    };
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(FULL).sort());
    expect(runConfigFromEnv(env(FULL))).toEqual(FULL);
  });

  it('a stale or hand-set variable is an error naming the field', () => {
    expect(() => runConfigFromEnv(env({ ...FULL, lab: { dialHost: 'x' } }))).toThrow(
      'TRUSTLAB_RUN: /lab/listenHost: missing',
    );
    expect(() => runConfigFromEnv(env({ ...FULL, attempts: 'three' }))).toThrow(
      'TRUSTLAB_RUN: /attempts: must be integer',
    );
    expect(() => runConfigFromEnv(env({ ...FULL, sslversion: 3 }))).toThrow(
      /TRUSTLAB_RUN: \/: must NOT have additional properties/,
    );
    expect(() => runConfigFromEnv({ [RUN_CONFIG_VARIABLE]: '{"driver":' })).toThrow(
      /TRUSTLAB_RUN is not JSON/,
    );
  });
});
