import { describe, expect, it } from 'vitest';
import { classifyOpensslReason, parseMosquittoLine } from './mosquitto-log.ts';

// Lines as Mosquitto 2.0.11 writes them with log_timestamp_format %Y-%m-%dT%H:%M:%S.
describe('Mosquitto log lines', () => {
  it.each([
    ['2026-11-24T00:00:02: mosquitto version 2.0.11 running', { kind: 'running' }],
    [
      '2026-11-24T00:00:02: New connection from 127.0.0.1:52906 on port 18890.',
      { kind: 'new-connection', remotePort: 52906, listenerPort: 18890 },
    ],
    [
      '2026-11-24T00:00:02: New client connected from 127.0.0.1:52906 as pubber (p2, c1, k60).',
      { kind: 'client-connected', remotePort: 52906, clientId: 'pubber', protocolLevel: 4, username: null },
    ],
    [
      "2026-11-24T00:00:02: New client connected from 127.0.0.1:1 as auto-1 (p5, c1, k60, u'modem-client-001').",
      {
        kind: 'client-connected',
        remotePort: 1,
        clientId: 'auto-1',
        protocolLevel: 5,
        username: 'modem-client-001',
      },
    ],
    [
      '2026-11-24T00:00:02: OpenSSL Error[0]: error:0A000418:SSL routines::tlsv1 alert unknown ca',
      { kind: 'openssl-error', reason: 'tlsv1 alert unknown ca' },
    ],
    [
      "2026-11-24T00:00:02: Received PUBLISH from pubber (d0, q1, r0, m1, 'a/b', ... (5 bytes))",
      { kind: 'publish', clientId: 'pubber', topic: 'a/b', bytes: 5 },
    ],
    [
      '2026-11-24T00:00:02: Client <unknown> disconnected: Protocol error.',
      { kind: 'disconnected', clientId: null, reason: 'Protocol error' },
    ],
    [
      '2026-11-24T00:00:02: Client pubber disconnected.',
      { kind: 'disconnected', clientId: 'pubber', reason: null },
    ],
    ['Client <unknown> closed its connection.', { kind: 'disconnected', clientId: null, reason: null }],
  ])('%s', (line, event) => {
    expect(parseMosquittoLine(line)).toEqual(event);
  });

  it('ignores lines the record does not need', () => {
    expect(parseMosquittoLine('2026-11-24T00:00:02: Sending CONNACK to pubber (0, 0)')).toBeNull();
    expect(parseMosquittoLine('garbage')).toBeNull();
  });
});

describe('OpenSSL reasons in the log', () => {
  it('reads a peer alert as the client alert with its number', () => {
    expect(classifyOpensslReason('tlsv1 alert unknown ca', null)).toEqual({
      clientAlert: { number: 48, name: 'unknown_ca' },
    });
    expect(classifyOpensslReason('sslv3 alert bad certificate', null)).toEqual({
      clientAlert: { number: 42, name: 'bad_certificate' },
    });
  });

  it('maps the server verdicts to the alert OpenSSL sends, by version', () => {
    expect(classifyOpensslReason('peer did not return a certificate', 'TLSv1.3')).toMatchObject({
      serverAlert: { number: 116 },
    });
    expect(classifyOpensslReason('peer did not return a certificate', 'TLSv1.2')).toMatchObject({
      serverAlert: { number: 40 },
    });
    expect(classifyOpensslReason('certificate verify failed', 'TLSv1.2')).toMatchObject({
      serverAlert: { number: 48 },
    });
    expect(classifyOpensslReason('wrong version number', null)).toEqual({
      serverAlert: null,
      error: 'wrong-version-number',
    });
  });
});
