import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabNetwork } from '../contracts/case.ts';
import { type OpenDevice, openDevice } from '../harness/runner/device.ts';
import type { SuiteRecord } from './case-record.ts';
import { executeCase } from './execute.ts';
import { defaultMatrix } from './matrix.ts';
import { virtualLabNetwork } from './plan-case.ts';
import { inferTrustModel } from './trust-model.ts';

const LAB: LabNetwork = { dialHost: '127.0.0.1', listenHost: '127.0.0.1' };
const ROOT = 'extensions::unknown-critical-extension-root';
const TWIN = 'anchors::right-ca';

const outDirs = new Map<string, string>();

async function run(
  personality: 'loads-ca-at-bind' | 'loads-ca-at-open' | 'strict',
): Promise<Map<string, SuiteRecord>> {
  const device: OpenDevice = await openDevice({
    driver: 'quectel',
    personality,
    network: virtualLabNetwork(LAB),
  });
  const outDir = mkdtempSync(join(tmpdir(), `trustlab-anchor-refused-${personality}-`));
  outDirs.set(personality, outDir);
  const out = new Map<string, SuiteRecord>();
  try {
    for (const c of defaultMatrix().filter((x) => x.id === TWIN || x.id === ROOT))
      out.set(c.id, (await executeCase(device, c, outDir, LAB, { attempts: 2, checkTwin: true })).record);
    // Left as found once the run's restore ran: no file of ours, whatever was refused.
    expect(await device.restore()).toEqual([]);
    expect([...(device.virtualModem?.files().keys() ?? [])].filter((n) => n.includes('trustlab_'))).toEqual(
      [],
    );
  } finally {
    await device.close();
  }
  return out;
}

const model = (records: Map<string, SuiteRecord>) =>
  new Map(inferTrustModel([...records.values()]).map((a) => [a.id, a]));

describe('a CA the device refuses before connecting', () => {
  let atBind: Map<string, SuiteRecord>;
  let atUse: Map<string, SuiteRecord>;
  let atOpen: Map<string, SuiteRecord>;
  beforeAll(async () => {
    atBind = await run('loads-ca-at-bind');
    atUse = await run('strict');
    atOpen = await run('loads-ca-at-open');
  }, 180_000);

  it('takes a device that never dials with the anchor, twice alike, while its twin just connected, as refusing it', () => {
    const r = atOpen.get(ROOT) as SuiteRecord;
    expect(r.outcome, r.reason).toBe('rejected');
    expect(r.reason).toMatch(
      /never dialled on 2 attempts \(.*\+QMTOPEN: 1,-1 each time.*twin anchors::right-ca connected on the same device \d+ s after the last attempt/,
    );
    expect(r.device.anchorRefused).toMatchObject({ stage: 'never-dialled', raw: '+QMTOPEN: 1,-1' });
    expect(r.server.connections).toBe(0);
    expect(r.attempts).toBe(2);
    expect(atOpen.get(TWIN)?.outcome).toBe('accepted');
    expect(model(atOpen).get('extensions.unknown-critical-root.refused-at-upload')?.answer).toBe('yes');
  });

  it('keeps both attempts in the case transcript, each with the refusal it got', () => {
    const r = atBind.get(ROOT) as SuiteRecord;
    const text = readFileSync(join(outDirs.get('loads-ca-at-bind') ?? '', r.transcriptFile ?? ''), 'utf8');
    expect(text).toMatch(/attempt 1 of 2[\s\S]*attempt 2 of 2/);
    const refused = /AT\+QSSLCFG="cacert",\d+,"UFS:trustlab_ca\.pem"\\r[\s\S]*?<< \\r\\nERROR/;
    const [first, second] = text.split('attempt 2 of 2');
    expect(first).toMatch(refused);
    expect(second).toMatch(refused);
  });

  it('is recorded as the device refusing the anchor, with its raw answer, not as a network failure', () => {
    const r = atBind.get(ROOT) as SuiteRecord;
    expect(r.outcome, r.reason).toBe('rejected');
    expect(r.reason).toMatch(/refused the trust anchor at bind .*AT\+QSSLCFG.*ERROR/);
    expect(r.device.anchorRefused).toMatchObject({ stage: 'bind', raw: 'ERROR' });
    expect(r.device.anchorRefused?.command).toMatch(/^AT\+QSSLCFG="cacert",\d+,"UFS:trustlab_ca\.pem"$/);
    expect(r.codes).toContain('ERROR');
    expect(r.server.connections).toBe(0);
    expect(r.device.healthy).toBe(true);
    expect(Object.values(r.verdicts)).not.toContain('control-failed');
    // Its twin, on the same device, took its anchor and connected.
    expect(atBind.get(TWIN)?.outcome).toBe('accepted');
  });

  it('lets the trust model answer "refuses at upload" from that record, and "no" where the refusal came at the handshake', () => {
    const bind = model(atBind);
    expect(bind.get('extensions.unknown-critical-root.refused-at-upload')?.answer).toBe('yes');
    expect(bind.get('anchors.refused-before-dialling')?.answer).toBe('yes');
    expect(bind.get('extensions.unknown-critical-root.refused-at-upload')?.detail).toMatch(/ERROR/);

    const r = atUse.get(ROOT) as SuiteRecord;
    expect(r.outcome, r.reason).toBe('rejected');
    expect(r.device.anchorRefused).toBeUndefined();
    expect(r.server.connections).toBeGreaterThan(0);
    const use = model(atUse);
    expect(use.get('extensions.unknown-critical-root.refused-at-upload')?.answer).toBe('no');
    expect(use.get('anchors.refused-before-dialling')?.answer).toBe('no');
  });
});
