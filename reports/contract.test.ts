import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contractProblem } from './contract.ts';
import type { CaseRecord } from './record.ts';
import { ResultsFileError, readRecords } from './results-log.ts';
import { fakeRecord } from './testing/fake-record.ts';

/** Every field of the type, filled: tsc refuses this object when the type gains a field it lacks. */
const FULL: Required<CaseRecord> = {
  ...fakeRecord('anchors::right-ca'),
  urcs: ['+QIURC: "pdpdeact",1'],
  device: {
    ...fakeRecord('anchors::right-ca').device,
    anchorRefused: { stage: 'bind', command: 'AT+QSSLCFG', raw: 'ERROR', at: '2026-12-02T00:00:00.000Z' },
  },
  pemFile: 'certs/a.pem',
  mqtt: { clientId: 'c', topic: 't', payload: 'p' },
  controls: [{ client: 'openssl', result: 'accepted' }],
  virtualTls: {
    engine: 'mbedtls',
    engineNote: 'n',
    verifyFlags: 8,
    reason: null,
    sni: 'broker.trustlab.test',
    checkName: null,
    unsupported: [],
  },
  session: {
    second: 'refused-chain',
    connections: [
      {
        outcome: 'accepted',
        reason: 'completed',
        offered: { ticketBytes: 0, knownSessionId: false, psk: false },
        resumed: false,
        version: 'TLSv1.2',
        servedChainBytes: 1099,
        clientAlert: null,
      },
      {
        outcome: 'accepted',
        reason: 'completed',
        offered: { ticketBytes: 176, knownSessionId: false, psk: false },
        resumed: true,
        version: 'TLSv1.2',
        servedChainBytes: null,
        clientAlert: null,
      },
    ],
  },
};

const schemaFields = () =>
  Object.keys(
    (
      JSON.parse(readFileSync(new URL('./schemas/case-record.schema.json', import.meta.url), 'utf8')) as {
        properties: object;
      }
    ).properties,
  ).sort();

describe('the results.jsonl contract', () => {
  it('names exactly the fields of CaseRecord, and a full record meets it', () => {
    expect(schemaFields()).toEqual(Object.keys(FULL).sort());
    expect(contractProblem('case-record', FULL)).toBeNull();
  });

  it('a corrupted file: a clear error naming each bad line and field, the valid records kept, the file untouched', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'trustlab-contract-')), 'results.jsonl');
    const lines = [
      JSON.stringify(fakeRecord('a::one')),
      '%%% not a record',
      JSON.stringify(fakeRecord('a::two')),
      JSON.stringify({ ...fakeRecord('a::three'), outcome: 'maybe' }),
      JSON.stringify({ ...fakeRecord('a::four'), server: { ...fakeRecord('x').server, connections: -1 } }),
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const before = readFileSync(file, 'utf8');
    let error: unknown;
    try {
      readRecords(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResultsFileError);
    const e = error as ResultsFileError;
    expect(e.problems).toEqual([
      { line: 2, problem: 'not JSON' },
      {
        line: 4,
        problem: '/outcome: "maybe" is not one of accepted, rejected, inconclusive, blocked, skipped',
      },
      { line: 5, problem: '/server/connections: must be >= 0' },
    ]);
    expect(e.records.map((r) => r.case)).toEqual(['a::one', 'a::two']);
    expect(e.message).toContain('results.jsonl: 3 line(s) are not TrustLab records (line 2: not JSON;');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('an old-format file (from before the server record had a ClientHello) is named by line and field', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'trustlab-contract-')), 'results.jsonl');
    const { clientHello: _gone, ...oldServer } = fakeRecord('x').server;
    const { healthy: _also, ...oldDevice } = fakeRecord('x').device;
    writeFileSync(
      file,
      `${JSON.stringify(fakeRecord('a::new'))}\n${JSON.stringify({ ...fakeRecord('a::old'), server: oldServer, device: oldDevice })}\n`,
    );
    expect(() => readRecords(file)).toThrow(/line 2: \/server\/clientHello: missing/);
    try {
      readRecords(file);
    } catch (e) {
      expect((e as ResultsFileError).records.map((r) => r.case)).toEqual(['a::new']);
    }
  });

  it('a torn last line (a kill mid-write) is not an error: the records before it are read', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'trustlab-contract-')), 'results.jsonl');
    writeFileSync(file, `${JSON.stringify(fakeRecord('a::one'))}\n{"case":"a::tw`);
    expect(readRecords(file).map((r) => r.case)).toEqual(['a::one']);
  });
});
