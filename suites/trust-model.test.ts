import { describe, expect, it } from 'vitest';
import { QUESTIONS } from '../reports/evidence/questions.ts';
import type { CaseRecord } from '../reports/record.ts';
import { fakeRecord, QUIET_SERVER } from '../reports/testing/fake-record.ts';
import { inferTrustModel } from './trust-model.ts';

/** A minimal record: only what the inference reads (outcome, verdicts, server hello). */
function rec(id: string, outcome: CaseRecord['outcome'], over: Partial<CaseRecord> = {}): CaseRecord {
  return fakeRecord(id, {
    params: { dialledHost: 'broker.trustlab.test' },
    outcome,
    reason: outcome,
    server: { ...QUIET_SERVER, closedBy: null },
    ...over,
  });
}

const answerOf = (records: CaseRecord[], q: string) => inferTrustModel(records).find((a) => a.question === q);

describe('inferTrustModel', () => {
  it('answers only from observations, naming the cases behind each answer', () => {
    const a = answerOf(
      [rec('anchors::right-ca', 'accepted'), rec('anchors::root-ca-false', 'rejected')],
      'Accepts a root with BasicConstraints CA=FALSE?',
    );
    expect(a).toMatchObject({ answer: 'no', cases: ['anchors::root-ca-false', 'anchors::right-ca'] });
  });

  it('says when a refused depth may be the chain’s size, and when a larger chain accepted rules that out', () => {
    const wire = (servedChainBytes: number) => ({
      server: {
        ...QUIET_SERVER,
        closedBy: null,
        wire: { servedChainBytes, certificateRecords: 1, largestServerRecord: servedChainBytes },
      },
    });
    const depth = [
      rec('anchors::right-ca', 'accepted', wire(1099)),
      rec('chains::intermediates-6', 'accepted', wire(3780)),
      rec('chains::intermediates-7', 'rejected', wire(4320)),
    ];
    const q = QUESTIONS['chain.depth-8.accepted'];
    expect(answerOf(depth, q)?.detail).toMatch(
      /first refused: 7 \(4320 DER bytes served, and no chain that large was accepted in this run: the size may be what was refused/,
    );
    const larger = [...depth, rec('sizes::served-chain-8k', 'accepted', wire(8192))];
    expect(answerOf(larger, q)?.detail).toMatch(
      /sizes::served-chain-8k, 8192 bytes, was accepted: the depth, not the size/,
    );
    expect(answerOf(larger, q)?.answer).toBe('no');
  });

  it('does not credit a refusal when the twin was refused too', () => {
    const a = answerOf(
      [rec('anchors::right-ca', 'rejected'), rec('anchors::root-ca-false', 'rejected')],
      'Accepts a root with BasicConstraints CA=FALSE?',
    );
    expect(a?.answer).toBe('unknown');
  });

  it('ignores a case whose reference controls failed', () => {
    const failed = rec('anchors::v1-root', 'accepted', { verdicts: { rfc5280: 'control-failed' } });
    expect(answerOf([failed], 'Accepts a v1 root?')?.answer).toBe('unknown');
  });

  it('sees a built-in store only when the device verifies at all', () => {
    const store = [
      rec('anchors::wrong-ca', 'rejected'),
      rec('anchors::right-ca', 'accepted'),
      rec('anchors::public-root-wrong-ca', 'accepted'),
    ];
    expect(answerOf(store, 'Trusts a CA other than the uploaded one (a built-in store)?')?.answer).toBe(
      'yes',
    );
    const none = [rec('anchors::wrong-ca', 'accepted'), rec('anchors::public-root-wrong-ca', 'accepted')];
    expect(answerOf(none, 'Trusts a CA other than the uploaded one (a built-in store)?')?.answer).toBe(
      'unknown',
    );
    const brokers = [rec('public::wrong-ca-broker.example', 'accepted')];
    expect(answerOf(brokers, 'Trusts a CA other than the uploaded one (a built-in store)?')?.answer).toBe(
      'yes',
    );
  });

  it('reports whether a knob changed outcomes, from pairs with and without it', () => {
    const q = 'Does ignorelocaltime 1 switch the validity checks off?';
    const changed = [
      rec('validity::leaf-expired', 'rejected'),
      rec('validity::leaf-expired[ignorelocaltime=1]', 'accepted'),
    ];
    expect(answerOf(changed, q)?.answer).toBe('yes');
    const same = [
      rec('validity::leaf-expired', 'rejected'),
      rec('validity::leaf-expired[ignorelocaltime=1]', 'rejected'),
    ];
    expect(answerOf(same, q)?.answer).toBe('no');
    expect(answerOf([], q)?.answer).toBe('unknown');
  });

  it('reads SNI and offered versions from the ClientHello', () => {
    const hello = {
      sni: 'broker.trustlab.test',
      legacyVersion: 'TLSv1.2',
      offeredVersions: ['TLSv1'],
      cipherSuites: [0xc023, 0x00ff],
      signatureAlgorithms: [],
      supportedGroups: [],
      sessionIdLength: 0,
      sessionId: '',
      sessionTicketBytes: null,
      alpn: null,
      extensions: [],
      maxFragmentLength: null,
    };
    const right = rec('anchors::right-ca', 'accepted', {
      server: { ...rec('x', 'accepted').server, sni: hello.sni, clientHello: hello },
    });
    expect(answerOf([right], 'Sends SNI (sni 1)?')).toMatchObject({ answer: 'yes' });
    const v1 = rec('anchors::right-ca[sslversion=1]', 'accepted', {
      server: { ...right.server, clientHello: hello },
    });
    expect(answerOf([v1], 'Offers only the TLS version it is configured for (sslversion)?')?.answer).toBe(
      'yes',
    );
    const suite = rec('anchors::right-ca[ciphersuite=0XC023]', 'accepted', {
      server: { ...right.server, clientHello: hello },
    });
    expect(
      answerOf([suite], 'Offers only the cipher suite it is configured for (ciphersuite)?')?.answer,
    ).toBe('yes');
  });

  it('gives every answer as yes, no or unknown with a list of cases', () => {
    for (const a of inferTrustModel([])) {
      expect(['yes', 'no', 'unknown']).toContain(a.answer);
      expect(Array.isArray(a.cases)).toBe(true);
    }
  });

  it('answers every catalogued question exactly once, under its id and its catalogued text', () => {
    const model = inferTrustModel([]);
    expect(model.map((a) => a.id).sort()).toEqual(Object.keys(QUESTIONS).sort());
    for (const a of model) expect(a.question).toBe(QUESTIONS[a.id]);
  });

  it('a knob case the device could not be asked makes its question not-applicable, with the reason', () => {
    const why = 'not expressible on some-family: no switch for the device clock';
    const skipped = (id: string) =>
      rec(id, 'skipped', {
        reason: why,
        verdicts: { rfc5280: 'not-applicable', webpki: 'not-applicable', 'mbedtls-2.28': 'not-applicable' },
      });
    const records = ['leaf', 'intermediate', 'root'].flatMap((w) =>
      ['expired', 'not-yet-valid'].flatMap((k) => [
        rec(`validity::${w}-${k}`, 'rejected'),
        skipped(`validity::${w}-${k}[ignorelocaltime=1]`),
      ]),
    );
    const a = inferTrustModel(records).find((x) => x.id === 'switch.ignore-clock.disables-validity');
    expect(a?.answer).toBe('not-applicable');
    expect(a?.detail).toBe(why);
    // A case that simply did not run is still unknown: not-applicable needs the device's own reason.
    expect(inferTrustModel([]).find((x) => x.id === 'switch.ignore-clock.disables-validity')?.answer).toBe(
      'unknown',
    );
  });
});
