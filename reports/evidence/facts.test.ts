import { describe, expect, it } from 'vitest';
import type { RunManifest } from '../run-manifest.ts';
import { fakeRecord, QUIET_SERVER } from '../testing/fake-record.ts';
import { runFacts, serverFacts } from './facts.ts';

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

describe('runFacts', () => {
  const input = (tls?: RunManifest['tls']) => ({
    records: [],
    manifest: { schema: 1 as const, ...(tls ? { tls } : {}) },
    trustModel: null,
    readRunFile: () => null,
  });

  it('states each setting as the device held it before the first case, and where capabilities came from', () => {
    const facts = new Map(
      runFacts(
        input({
          basis: ['AT+CSSLCFG=? lists 8 keys'],
          asFound: [{ name: 'SNI', raw: '+CSSLCFG: 0,3,0,0,300,"","","",0', meaning: 'off' }],
        }),
      ),
    );
    expect(facts.get('As found: SNI')).toBe('off (+CSSLCFG: 0,3,0,0,300,"","","",0, before any change)');
    expect(facts.get('TLS capabilities from')).toBe('AT+CSSLCFG=? lists 8 keys');
  });

  it('says nothing of settings a run did not read', () => {
    expect([...new Map(runFacts(input())).keys()].some((k) => k.startsWith('As found'))).toBe(false);
  });
});
