import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtEngine } from '../harness/at/engine.ts';
import { Transcript } from '../harness/at/transcript.ts';
import { QuectelDriver } from '../harness/drivers/quectel/driver.ts';
import type { OpenDevice } from '../harness/runner/device.ts';
import { testDevice } from '../harness/runner/run-testing.ts';
import { createMemoryPair } from '../harness/transport/memory-pair.ts';
import {
  PERSONALITIES,
  type PersonalityName,
  type TrustPersonality,
} from '../harness/virtual-modem/personality.ts';
import { startVirtualModem } from '../harness/virtual-modem/start.ts';
import { executeCase } from './execute.ts';
import { defaultMatrix } from './matrix.ts';
import { CATALOGUE_HOST_NAMES, labPublicRootPem } from './plan-case.ts';
import { inferTrustModel, type TrustModelAnswer } from './trust-model.ts';

const LAB = { dialHost: '127.0.0.1', listenHost: '127.0.0.1' };

/** The cases the personality questions rest on: each knob with and without, each anchor source. */
const REPRESENTATIVE = [
  'anchors::right-ca',
  'anchors::right-ca[sni=0]',
  'anchors::wrong-ca',
  'anchors::wrong-ca[seclevel=0]',
  'names::san-mismatch',
  'names::san-mismatch[sni=0]',
  'names::san-mismatch[seclevel=0]',
  'validity::leaf-expired',
  'validity::leaf-not-yet-valid',
  'validity::leaf-expired[ignorelocaltime=1]',
  'validity::leaf-not-yet-valid[ignorelocaltime=1]',
  'anchors::root-without-basic-constraints',
  'anchors::root-without-key-usage',
  'anchors::public-root-right-ca',
  'anchors::public-root-wrong-ca',
  'names::ip-literal-dns-san',
  'names::ip-literal-ip-san',
  'extensions::unknown-critical-extension-root',
];

type Answer = TrustModelAnswer['answer'];

/**
 * What a personality's description (its data, not its name) says the inferred model must be. The
 * inference never sees this: it works from what the broker and the modem reported.
 */
function described(p: TrustPersonality, engine: string): Record<string, Answer> {
  const verifies = p.verification === 'seclevel';
  const usesUploaded = p.anchors !== 'builtin';
  const e: Record<string, Answer> = {
    'Trusts the uploaded CA?': !verifies || usesUploaded ? 'yes' : 'no',
    'Trusts a CA other than the uploaded one (a built-in store)?': !verifies
      ? 'unknown'
      : p.anchors === 'uploaded'
        ? 'no'
        : 'yes',
  };
  // A stack that loads the CA when it is bound refuses, before any dial, one it cannot load.
  // One that loads it at open never dials with it: refused too, seen beside its twin that connected.
  const refusesAtBind = p.anchorLoad === 'at-bind' || p.anchorLoad === 'at-open' ? 'yes' : 'no';
  e['Refuses a root with an unknown critical extension at upload, before dialling?'] = refusesAtBind;
  e['Refuses some trust anchors at upload or binding, before dialling?'] = refusesAtBind;
  // Through a lab-private chain nothing else shows when the uploaded CA is ignored.
  if (!usesUploaded) return e;
  Object.assign(e, {
    'Verifies the server chain at seclevel 1 (refuses an unrelated root)?': verifies ? 'yes' : 'no',
    'Does seclevel 0 switch verification off?': verifies ? 'yes' : 'no',
    'Sends SNI (sni 1)?': p.sni === 'never' ? 'no' : 'yes',
    'Sends SNI with sni 0?': 'no',
    'Checks the hostname with SNI on?': verifies && p.nameCheck !== 'none' ? 'yes' : 'no',
    'Checks the hostname with SNI off?': verifies && p.nameCheck === 'dialled' ? 'yes' : 'no',
  });
  if (verifies) {
    e["Checks the leaf's validity period?"] = 'yes';
    e['Does ignorelocaltime 1 switch the validity checks off?'] = 'yes';
  }
  // RFC 6125 matches an IP literal against iPAddress SANs only; stock mbedTLS string-compares it
  // with dNSName SANs.
  if (verifies && p.nameCheck !== 'none') {
    if (p.nameRules === 'rfc6125') e['Matches an IP literal against a dNSName SAN?'] = 'no';
    else if (engine === 'mbedtls') e['Matches an IP literal against a dNSName SAN?'] = 'yes';
  }
  // mbedTLS 2.28 refuses a v3 root without BasicConstraints and accepts one without KeyUsage (§6).
  if (verifies && engine === 'mbedtls') {
    e['Accepts a root without BasicConstraints?'] = 'no';
    e['Accepts a root without KeyUsage?'] = 'yes';
  }
  return e;
}

/** A virtual Quectel modem of this personality, its built-in store holding the lab-public root. */
async function openVirtual(name: PersonalityName): Promise<{ device: OpenDevice; engine: string }> {
  const [host, modemSide] = createMemoryPair();
  const hosts = Object.fromEntries(CATALOGUE_HOST_NAMES.map((n) => [n, LAB.listenHost]));
  const modem = await startVirtualModem(
    {
      family: 'quectel',
      personality: name,
      builtinAnchorsPem: await labPublicRootPem(),
      network: { hosts: { localhost: '127.0.0.1', ...hosts } },
    },
    modemSide,
  );
  const transcript = new Transcript();
  const driver = new QuectelDriver(new AtEngine(host, { transcript }));
  const identity = await driver.identify();
  const device = testDevice({
    label: `virtual:${name}`,
    driver,
    transcript,
    identity,
    tls: await driver.tlsCapabilities(),
    close: async () => modem.stop(),
  });
  return { device, engine: modem.engine };
}

const cases = defaultMatrix().filter((c) => REPRESENTATIVE.includes(c.id));

describe('the inferred trust model matches each personality’s description', () => {
  it('covers every representative case in the default matrix', () => {
    expect(cases.map((c) => c.id).sort()).toEqual([...REPRESENTATIVE].sort());
  });

  it.for(Object.keys(PERSONALITIES) as PersonalityName[])('%s', { timeout: 180_000 }, async (name) => {
    const { device, engine } = await openVirtual(name);
    const outDir = mkdtempSync(join(tmpdir(), `trustlab-personality-${name}-`));
    const records = [];
    try {
      // Two attempts and the twin on the device: a refused anchor counts only when it repeats.
      for (const c of cases)
        records.push((await executeCase(device, c, outDir, LAB, { attempts: 2, checkTwin: true })).record);
    } finally {
      await device.close();
    }
    for (const r of records) expect(r.verdicts.rfc5280, `${r.case}: ${r.reason}`).not.toBe('control-failed');
    const model = new Map(inferTrustModel(records).map((a) => [a.question, a]));
    for (const [question, want] of Object.entries(described(PERSONALITIES[name], engine))) {
      const got = model.get(question);
      expect(got?.answer, `${question} — ${got?.detail}`).toBe(want);
      if (want !== 'unknown') expect(got?.cases.length, `${question} names its cases`).toBeGreaterThan(0);
    }
  });
});
