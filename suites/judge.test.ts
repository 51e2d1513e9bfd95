import { describe, expect, it } from 'vitest';
import { type ConnectionObservation, newObservation } from '../brokers/observation.ts';
import type { DeviceOutcome } from '../harness/drivers/driver.ts';
import { judgeAttempts, judgeBothEnds } from './judge.ts';

const CLIENT = 'trustlab-case';
const AT = '2026-12-03T09:00:30.000Z';

function device(over: Partial<DeviceOutcome> = {}): DeviceOutcome {
  return {
    codes: [{ step: 'open', raw: '+QMTOPEN: 1,0', at: '' }],
    reached: { tlsOpened: false, mqttConnected: false, publishAcked: false },
    error: null,
    healthy: true,
    stages: { tcp: null, tls: null, mqttConnack: null, publishAck: null },
    urcs: [],
    diagnostics: [],
    settingsReadBack: {},
    restoreFailures: [],
    ...over,
  };
}

const refusedAnchor = (raw = 'ERROR') =>
  device({
    codes: [{ step: 'anchor bind refused', raw, at: '' }],
    error: `AT+QSSLCFG="cacert" answered ${raw}`,
    anchorRefused: { stage: 'bind', command: 'AT+QSSLCFG="cacert",1,"UFS:trustlab_ca.pem"', raw, at: '' },
  });

function seen(over: Partial<ConnectionObservation>): ConnectionObservation {
  return { ...newObservation(1, 'aedes', '127.0.0.1:1'), ...over };
}

const hello = { sni: null } as unknown as ConnectionObservation['clientHello'];

describe('judging a case from both ends', () => {
  it('gives no verdict on a device when the server, serving only certificates, aborted the handshake itself', () => {
    const aborted = seen({
      clientHello: {
        sni: 'x',
        offeredVersions: ['TLSv1.2'],
      } as unknown as ConnectionObservation['clientHello'],
      handshake: 'server-error',
      serverError: 'ERR_SSL_NO_SHARED_CIPHER',
    });
    const refused = device({ codes: [{ step: 'open', raw: '+QMTOPEN: 1,-1', at: '' }] });
    const lab = judgeBothEnds(refused, [aborted], CLIENT, { serverShapesCase: false });
    expect(lab.outcome).toBe('skipped');
    expect(lab.reason).toMatch(
      /the lab's TLS server ended the handshake .*ERR_SSL_NO_SHARED_CIPHER, to a client offering TLSv1\.2/,
    );
    // Where the case sets what the server negotiates, its refusal is the case's answer.
    expect(judgeBothEnds(refused, [aborted], CLIENT).outcome).toBe('rejected');
    // A device that sent its own alert judged the certificate, whatever the server did after.
    const alerted = seen({ ...aborted, clientAlert: { number: 42, name: 'bad_certificate' } as never });
    expect(judgeBothEnds(refused, [alerted], CLIENT, { serverShapesCase: false }).outcome).toBe('rejected');
  });

  it('reads a server that could not sign as the device’s answer when the device offered nothing for the key', () => {
    const offer = (signatureAlgorithms: number[], supportedGroups: number[]) =>
      seen({
        clientHello: {
          sni: 'x',
          offeredVersions: ['TLSv1.2'],
          signatureAlgorithms,
          supportedGroups,
        } as unknown as ConnectionObservation['clientHello'],
        handshake: 'server-error',
        serverError: 'ERR_SSL_NO_SHARED_CIPHER',
      });
    const refused = device({ codes: [{ step: 'open', raw: '+QMTOPEN: 1,-1', at: '' }] });
    const ed25519 = { type: 'ed25519', curve: null, label: 'ed25519' };
    const noEd = judgeBothEnds(refused, [offer([0x0403, 0x0804], [23])], CLIENT, {
      serverShapesCase: false,
      serverKey: ed25519,
    });
    expect(noEd.outcome).toBe('rejected');
    expect(noEd.reason).toMatch(/does not offer the ed25519 signature scheme \(0x0807\).*0x0403 0x0804/);
    // Offered, yet the server still aborted: the lab's problem, not the device's.
    const offered = judgeBothEnds(refused, [offer([0x0807], [23])], CLIENT, {
      serverShapesCase: false,
      serverKey: ed25519,
    });
    expect(offered.outcome).toBe('skipped');
    // P-521 in TLS 1.2 needs the curve in supported_groups.
    const p521 = { type: 'ec', curve: 'secp521r1', label: 'ECDSA secp521r1' };
    const noCurve = judgeBothEnds(refused, [offer([0x0603], [23, 24])], CLIENT, {
      serverShapesCase: false,
      serverKey: p521,
    });
    expect(noCurve.outcome).toBe('skipped'); // the scheme 0x0603 names the curve (TLS 1.3 style): offered
    const neither = judgeBothEnds(refused, [offer([0x0403], [23, 24])], CLIENT, {
      serverShapesCase: false,
      serverKey: p521,
    });
    expect(neither.reason).toMatch(/secp521r1 curve \(group 25/);
  });

  it('accepts only a completed handshake that carries the case client id when the device says MQTT connected', () => {
    const up = device({ reached: { tlsOpened: true, mqttConnected: true, publishAcked: true } });
    const ours = seen({
      clientHello: hello,
      handshake: 'completed',
      mqttConnect: { clientId: CLIENT } as never,
    });
    const other = seen({
      clientHello: hello,
      handshake: 'completed',
      mqttConnect: { clientId: 'x' } as never,
    });
    expect(judgeBothEnds(up, [ours], CLIENT).outcome).toBe('accepted');
    const contradiction = judgeBothEnds(up, [other], CLIENT);
    expect(contradiction.outcome).toBe('inconclusive');
    expect(contradiction.reason).toMatch(/contradiction: .*carrying client id trustlab-case/);
  });

  it('names who refused: the device by its alert, the server by its own closing reason', () => {
    const alert = seen({
      clientHello: hello,
      handshake: 'client-alert',
      clientAlert: { number: 48, name: 'unknown_ca' } as never,
    });
    expect(judgeBothEnds(device(), [alert], CLIENT)).toEqual({
      outcome: 'rejected',
      reason: 'the device refused the connection; server saw: client sent alert 48 unknown_ca',
    });
    const byServer = seen({
      clientHello: hello,
      handshake: 'closed-without-alert',
      serverError: 'no client certificate',
    });
    expect(judgeBothEnds(device(), [byServer], CLIENT).reason).toMatch(/^the server refused/);
  });

  it('gives no verdict from an unhealthy device or a case that never reached TLS', () => {
    expect(judgeBothEnds(device({ healthy: false, error: 'no answer' }), [], CLIENT).outcome).toBe(
      'inconclusive',
    );
    expect(judgeBothEnds(device(), [], CLIENT).reason).toMatch(/^failed before TLS/);
  });

  it('counts a refused anchor as a rejection only when two attempts were refused the same way', () => {
    const once = judgeAttempts([{ device: refusedAnchor(), server: [], startedAt: AT }], CLIENT);
    expect(once.outcome).toBe('inconclusive');
    expect(once.reason).toMatch(/refused the trust anchor at bind before dialling/);
    const twice = judgeAttempts(
      [
        { device: refusedAnchor(), server: [], startedAt: AT },
        { device: refusedAnchor(), server: [], startedAt: AT },
      ],
      CLIENT,
    );
    expect(twice.outcome).toBe('rejected');
    expect(twice.reason).toMatch(
      /the same way on 2 attempts \(AT\+QSSLCFG="cacert",1,"UFS:trustlab_ca\.pem" -> ERROR\)/,
    );
    // Two different answers (a fault, then a refusal) are not a repeated refusal.
    const differing = judgeAttempts(
      [
        { device: refusedAnchor('+CME ERROR: 3'), server: [], startedAt: AT },
        { device: refusedAnchor(), server: [], startedAt: AT },
      ],
      CLIENT,
    );
    expect(differing.outcome).toBe('inconclusive');
  });

  it('does not call it a refused anchor when the endpoint saw the device connect anyway', () => {
    const dialled = seen({
      clientHello: hello,
      handshake: 'client-alert',
      clientAlert: { number: 48, name: 'unknown_ca' } as never,
    });
    const both = [
      { device: refusedAnchor(), server: [dialled], startedAt: AT },
      { device: refusedAnchor(), server: [dialled], startedAt: AT },
    ];
    expect(judgeAttempts(both, CLIENT).reason).toMatch(
      /^the device refused the connection; server saw: client sent alert/,
    );
  });

  it('takes a case that never dials, the same way twice, right after its twin connected, as a refused anchor', () => {
    const silent = () =>
      device({ codes: [{ step: 'open', raw: '+QMTOPEN: 1,-1', at: '' }], error: 'open failed' });
    const twin = { case: 'anchors::right-ca', accepted: true, endedAt: '2026-12-03T09:00:20.000Z' };
    const twice = [
      { device: silent(), server: [], startedAt: AT },
      { device: silent(), server: [], startedAt: AT },
    ];
    const judged = judgeAttempts(twice, CLIENT, twin);
    expect(judged.outcome).toBe('rejected');
    expect(judged.reason).toMatch(
      /never dialled on 2 attempts \(open: \+QMTOPEN: 1,-1 each time.*twin anchors::right-ca connected on the same device 10 s before the last attempt/,
    );
    expect(judged.anchorRefused).toMatchObject({
      stage: 'never-dialled',
      command: 'open',
      raw: '+QMTOPEN: 1,-1',
    });
    // Not without a twin that just connected, not on one attempt, not with differing answers, not with a TCP connection.
    expect(judgeAttempts(twice, CLIENT).outcome).toBe('inconclusive');
    expect(judgeAttempts(twice, CLIENT, { ...twin, accepted: false }).outcome).toBe('inconclusive');
    expect(judgeAttempts(twice, CLIENT, { ...twin, endedAt: '2026-12-03T08:50:00.000Z' }).outcome).toBe(
      'inconclusive',
    );
    expect(judgeAttempts(twice.slice(0, 1), CLIENT, twin).outcome).toBe('inconclusive');
    const other = device({ codes: [{ step: 'open', raw: '+QMTOPEN: 1,5', at: '' }] });
    expect(
      judgeAttempts([twice[0] as never, { device: other, server: [], startedAt: AT }], CLIENT, twin).outcome,
    ).toBe('inconclusive');
    const tcpOnly = seen({ handshake: 'not-tls' });
    expect(
      judgeAttempts([twice[0] as never, { device: silent(), server: [tcpOnly], startedAt: AT }], CLIENT, twin)
        .outcome,
    ).toBe('inconclusive');
  });
});

describe('judging a case whose ServerHello the lab changed', () => {
  const offered = (versions: string[]) =>
    ({ sni: 'x', offeredVersions: versions }) as unknown as ConnectionObservation['clientHello'];
  const tampered = (over: Partial<ConnectionObservation>, keyExchange = false) => {
    const o = seen({
      clientHello: offered(['TLSv1.3', 'TLSv1.2']),
      serverHelloTampered: 'ServerHello changed',
      ...over,
    });
    o.wire.clientKeyExchangeSeen = keyExchange;
    return o;
  };
  const refusedTls = device({ codes: [{ step: 'open', raw: '+QMTOPEN: 1,-1', at: '' }] });

  it('rejects when the device stopped before its key exchange, naming its alert', () => {
    const alert = { number: 47, name: 'illegal_parameter' } as ConnectionObservation['clientAlert'];
    const j = judgeBothEnds(
      refusedTls,
      [tampered({ clientAlert: alert, handshake: 'client-alert' })],
      CLIENT,
      {
        serverHelloTamper: 'unoffered-suite',
      },
    );
    expect(j).toEqual({
      outcome: 'rejected',
      reason:
        'the device stopped at the changed ServerHello (ServerHello changed) before its key exchange: alert 47 illegal_parameter',
    });
  });

  it('accepts (went on past it) when the device sent its ClientKeyExchange, though the handshake could not complete', () => {
    const j = judgeBothEnds(refusedTls, [tampered({ handshake: 'server-error' }, true)], CLIENT, {
      serverHelloTamper: 'downgrade-sentinel',
    });
    expect(j.outcome).toBe('accepted');
    expect(j.reason).toMatch(/went on past the changed ServerHello .*ClientKeyExchange/);
  });

  it('skips when the lab sent no changed ServerHello, or the sentinel asks nothing of a client without TLS 1.3', () => {
    const none = judgeBothEnds(
      refusedTls,
      [
        tampered({
          serverHelloTampered: null,
          handshake: 'server-error',
          serverError: 'ERR_SSL_NO_SHARED_CIPHER',
        }),
      ],
      CLIENT,
      {
        serverHelloTamper: 'downgrade-sentinel',
      },
    );
    expect(none.outcome).toBe('skipped');
    expect(none.reason).toMatch(/could not present the changed ServerHello.*ERR_SSL_NO_SHARED_CIPHER/);
    const old = judgeBothEnds(refusedTls, [tampered({ clientHello: offered(['TLSv1.2']) }, true)], CLIENT, {
      serverHelloTamper: 'downgrade-sentinel',
    });
    expect(old).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/not TLS 1.3/) });
    // The suite check is no TLS 1.3 matter: a TLS 1.2-only client is held to it.
    const suite = judgeBothEnds(refusedTls, [tampered({ clientHello: offered(['TLSv1.2']) }, true)], CLIENT, {
      serverHelloTamper: 'unoffered-suite',
    });
    expect(suite.outcome).toBe('accepted');
  });

  it('leaves a faulty device inconclusive and a case that never reached TLS to the ordinary judge', () => {
    const faulty = judgeBothEnds(
      { ...refusedTls, healthy: false, error: 'module restarted' },
      [tampered({})],
      CLIENT,
      {
        serverHelloTamper: 'unoffered-suite',
      },
    );
    expect(faulty.outcome).toBe('inconclusive');
    const nothing = judgeBothEnds(refusedTls, [], CLIENT, { serverHelloTamper: 'unoffered-suite' });
    expect(nothing).toMatchObject({ outcome: 'inconclusive', reason: expect.stringMatching(/before TLS/) });
  });
});
