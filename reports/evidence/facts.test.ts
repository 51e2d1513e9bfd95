import { describe, expect, it } from 'vitest';
import { fakeRecord, QUIET_SERVER } from '../testing/fake-record.ts';
import { serverFacts } from './facts.ts';

describe('serverFacts', () => {
  it('shows the client certificate the broker saw and its verdict', () => {
    const facts = new Map(
      serverFacts(
        fakeRecord('client::wrong-ca', {
          server: {
            ...QUIET_SERVER,
            clientCertificate: {
              subject: 'CN=device',
              issuer: 'CN=Other CA',
              sha256: 'AA',
              verified: false,
              verifyError: 'unable to get local issuer certificate',
              source: 'tls-stack',
            },
          },
        }),
      ),
    );
    expect(facts.get('Client certificate')).toBe(
      'CN=device (issuer CN=Other CA); refused: unable to get local issuer certificate',
    );
  });

  it('names the TLS engine that answered for the virtual modem, and nothing for a real one', () => {
    const tls = {
      engine: 'mbedtls',
      engineNote: 'mbedtls (auto)',
      verifyFlags: 8,
      reason: null,
      sni: null,
      checkName: null,
      unsupported: [],
    };
    expect(new Map(serverFacts(fakeRecord('a', { virtualTls: tls }))).get('TLS engine (virtual modem)')).toBe(
      'mbedtls (auto)',
    );
    expect(new Map(serverFacts(fakeRecord('a'))).has('TLS engine (virtual modem)')).toBe(false);
  });
});
