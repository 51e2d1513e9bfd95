import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskImei, writeAllureResults } from './allure-results.ts';
import { type BehaviourSet, behaviourOf } from './behaviour.ts';
import { writeJunit } from './junit.ts';
import { evaluateGate } from './quality-gate.ts';
import type { CaseRecord } from './record.ts';
import { reporterResult } from './reporter-status.ts';
import { fakeRecord } from './testing/fake-record.ts';

const withVerdict = (id: string, verdict: string, over: Partial<CaseRecord> = {}) =>
  fakeRecord(id, { verdicts: { rfc5280: verdict, webpki: 'conformant' }, ...over });

function baselineOf(records: readonly CaseRecord[]): BehaviourSet {
  return {
    source: 'test-baseline',
    model: 'EC200U',
    firmware: 'FW-A',
    catalogueRevision: null,
    cases: new Map(records.map((r) => [r.case, behaviourOf(r)])),
    trustModel: null,
  };
}

describe('a case result for dashboards follows its verdict under the chosen profile', () => {
  const expected: readonly [string, string, string][] = [
    ['conformant', 'passed', 'conformant'],
    ['lenient', 'failed', 'finding'],
    ['strict', 'failed', 'finding'],
    ['inconclusive', 'broken', 'no-verdict'],
    ['control-failed', 'broken', 'no-verdict'],
    ['blocked', 'skipped', 'not-run'],
    ['skipped', 'skipped', 'not-run'],
    ['not-applicable', 'skipped', 'not-run'],
  ];
  it.each(expected)('%s → %s (%s)', (verdict, status, category) => {
    const r = reporterResult(withVerdict('names::san-mismatch', verdict), { profile: 'rfc5280' });
    expect(r.status).toBe(status);
    expect(r.category).toBe(category);
    if (status !== 'passed') expect(r.message).toContain(verdict);
    else expect(r.message).toBeNull();
  });

  it('judges by the profile asked for, not the first one in the record', () => {
    const record = withVerdict('names::san-mismatch', 'lenient');
    expect(reporterResult(record, { profile: 'rfc5280' }).status).toBe('failed');
    expect(reporterResult(record, { profile: 'webpki' }).status).toBe('passed');
  });

  it('a record without a verdict under the profile is broken, never passed', () => {
    const r = reporterResult(withVerdict('a::b', 'conformant'), { profile: 'mbedtls-2.28' });
    expect(r).toMatchObject({ status: 'broken', category: 'no-verdict' });
  });

  it('a failed consistency check is a harness fault, apart from the device finding', () => {
    const r = reporterResult(withVerdict('a::b', 'lenient'), {
      profile: 'rfc5280',
      harnessFault: 'broker saw the device CONNECT',
    });
    expect(r).toMatchObject({ status: 'broken', category: 'harness-fault' });
    expect(r.message).toMatch(/^harness fault: broker saw/);
  });

  it('a finding names its family, the profile and the raw codes', () => {
    const r = reporterResult(withVerdict('names::san-mismatch', 'lenient', { codes: ['+QMTOPEN: 1,0'] }), {
      profile: 'rfc5280',
    });
    expect(r.message).toMatch(
      /^\[names\] lenient under rfc5280: the device accepted what the profile rejects/,
    );
    expect(r.message).toContain('+QMTOPEN: 1,0');
  });

  it('a control byte from the device never reaches the message', () => {
    const r = reporterResult(withVerdict('a::b', 'strict', { reason: 'bad\u0000line\u001b[31m' }), {
      profile: 'rfc5280',
    });
    expect(r.message).toContain('bad\\x00line\\x1b[31m');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting none are left
    expect(r.message).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
  });
});

describe('known findings against a baseline of the same firmware', () => {
  const finding = withVerdict('names::san-mismatch', 'lenient', { codes: ['+QMTOPEN: 1,0'] });

  it('the same finding with the same behaviour is known: skipped, not failed', () => {
    const r = reporterResult(finding, { profile: 'rfc5280', baseline: baselineOf([finding]) });
    expect(r).toMatchObject({ status: 'skipped', category: 'known-finding' });
    expect(r.message).toMatch(/^known finding/);
    expect(r.baseline?.novelty).toBe('known');
  });

  it('the same verdict with other behaviour is a changed finding: failed, naming what changed', () => {
    const before = { ...finding, codes: ['+QMTOPEN: 1,0', '+QMTSTAT: 1,1'] };
    const r = reporterResult(finding, { profile: 'rfc5280', baseline: baselineOf([before]) });
    expect(r).toMatchObject({ status: 'failed', category: 'finding' });
    expect(r.baseline?.novelty).toBe('changed');
    expect(r.message).toContain('changed since the baseline');
  });

  it('a finding where the baseline was conformant, or had no such case, is new', () => {
    const conformant = withVerdict('names::san-mismatch', 'conformant');
    const wasConformant = reporterResult(finding, { profile: 'rfc5280', baseline: baselineOf([conformant]) });
    expect(wasConformant).toMatchObject({ status: 'failed', category: 'finding' });
    expect(wasConformant.message).toContain('the baseline had conformant');
    const absent = reporterResult(finding, { profile: 'rfc5280', baseline: baselineOf([]) });
    expect(absent.baseline?.novelty).toBe('new');
    expect(absent.status).toBe('failed');
  });

  it('the gate fails on new findings only when asked, and on any finding with --fail-on findings', () => {
    const fresh = withVerdict('anchors::wrong-ca', 'lenient');
    const records = [finding, fresh, withVerdict('anchors::right-ca', 'conformant')];
    const baseline = baselineOf([finding]);
    const gate = (failOn: 'new-findings' | 'findings' | 'never', b: BehaviourSet | null) =>
      evaluateGate(records, { failOn, profile: 'rfc5280', baseline: b });
    expect(gate('new-findings', baseline)).toMatchObject({
      findings: 2,
      newFindings: 1,
      known: 1,
      failed: true,
    });
    expect(gate('new-findings', baselineOf([finding, fresh])).failed).toBe(false);
    expect(gate('findings', baselineOf([finding, fresh])).failed).toBe(true);
    expect(gate('never', null).failed).toBe(false);
  });
});

describe('JUnit and Allure results written from the records', () => {
  const records = [
    withVerdict('anchors::right-ca', 'conformant'),
    withVerdict('names::san-mismatch', 'lenient', { codes: ['+QMTOPEN: 1,0 <&"\u0007>'] }),
    withVerdict('anchors::wrong-ca', 'inconclusive'),
    withVerdict('validity::leaf-expired', 'not-applicable'),
    withVerdict('chains::reverse-order', 'strict'),
  ];
  const environment = {
    device: 'tcp://127.0.0.1:5555',
    model: 'EC200U',
    firmware: 'FW-A',
    imei: '866123456789012',
    harnessVersion: '0.1.0',
    harnessCommit: null,
    catalogueRevision: 'abc',
    profile: 'rfc5280',
    baseline: null,
  };

  it('junit.xml counts failures, errors and skips per verdict, escaped and free of control bytes', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'trustlab-junit-'));
    const faults = new Map([['chains::reverse-order', 'no MQTT CONNECT reached the broker']]);
    const { file, failures, errors } = writeJunit({
      outDir,
      records,
      environment,
      profile: 'rfc5280',
      harnessFaults: faults,
    });
    const xml = readFileSync(file, 'utf8');
    expect(failures).toBe(1); // the lenient case; the strict one is a harness fault
    expect(errors).toBe(2); // inconclusive + harness fault
    expect(xml).toContain('tests="5" failures="1" errors="2" skipped="1"');
    expect(xml).toContain('&lt;&amp;&quot;\\x07&gt;');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting none are left
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(xml.match(/<testcase /g)).toHaveLength(5);
    expect(xml).toMatch(/<error message="harness fault: no MQTT CONNECT/);
  });

  it('allure-results hold one result per case with its status, category label and the environment', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'trustlab-allure-'));
    const dir = writeAllureResults({
      outDir,
      records,
      environment,
      profile: 'rfc5280',
      trustModel: [
        {
          id: 'names.sni-on.checked',
          question: 'Checks the server name?',
          answer: 'no',
          cases: ['names::san-mismatch'],
        },
      ],
      harnessFaults: new Map(),
    });
    const results = readdirSync(dir)
      .filter((f) => f.endsWith('-result.json'))
      .map(
        (f) =>
          JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
            name: string;
            status: string;
            labels: { name: string; value: string }[];
          },
      );
    const byName = new Map(results.map((r) => [r.name, r]));
    expect(results).toHaveLength(5);
    expect(byName.get('anchors::right-ca')?.status).toBe('passed');
    expect(byName.get('names::san-mismatch')?.status).toBe('failed');
    expect(byName.get('anchors::wrong-ca')?.status).toBe('broken');
    expect(byName.get('validity::leaf-expired')?.status).toBe('skipped');
    expect(byName.get('names::san-mismatch')?.labels).toContainEqual({
      name: 'trustQuestion',
      value: 'Checks the server name?',
    });
    const env = readFileSync(join(dir, 'environment.properties'), 'utf8');
    expect(env).toContain('imei=86612345*****12');
    expect(env).toContain('profile=rfc5280');
    expect(env).not.toContain('866123456789012');
  });

  it('an IMEI is masked to its type allocation code and last two digits', () => {
    expect(maskImei('866123456789012')).toBe('86612345*****12');
    expect(maskImei(null)).toBeNull();
    expect(maskImei('12345')).toBe('*****');
  });
});
