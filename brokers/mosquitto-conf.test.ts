import { describe, expect, it } from 'vitest';
import { EndpointUnsupportedError } from './endpoint.ts';
import { checkMosquittoSupport, mosquittoConf } from './mosquitto-conf.ts';
import { buildLabPki } from './testing/lab-pki.ts';

const pki = await buildLabPki();
const base = { chainPem: pki.leafPem + pki.intermediatePem, keyPem: pki.leafKeyPem };
const layout = {
  bindHost: '127.0.0.1',
  tlsPort: 18001,
  observerPort: 18002,
  certfile: '/d/chain.pem',
  keyfile: '/d/key.pem',
  cafile: '/d/ca.pem',
  logDest: '/d/mosquitto.log',
};

describe('generated mosquitto.conf', () => {
  it('has the TLS listener with the served chain and a plain observer listener', () => {
    const conf = mosquittoConf(base, layout);
    expect(conf).toContain('listener 18001 127.0.0.1\ncertfile /d/chain.pem\nkeyfile /d/key.pem');
    expect(conf).toContain('listener 18002 127.0.0.1\nallow_anonymous true');
    expect(conf).toContain('log_dest file /d/mosquitto.log');
    expect(conf).not.toContain('require_certificate');
    expect(conf).not.toContain('tls_version');
  });

  it('writes client-certificate, version and cipher settings', () => {
    const conf = mosquittoConf(
      {
        ...base,
        clientAuth: { caPem: pki.clientCaPem, required: true },
        minTlsVersion: 'TLSv1.3',
        ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
        tls13Ciphersuites: 'TLS_AES_128_GCM_SHA256',
      },
      layout,
    );
    expect(conf).toContain('cafile /d/ca.pem\nrequire_certificate true\nuse_identity_as_username true');
    expect(conf).toContain('tls_version tlsv1.3');
    expect(conf).toContain('ciphers ECDHE-ECDSA-AES128-GCM-SHA256');
    expect(conf).toContain('ciphers_tls1.3 TLS_AES_128_GCM_SHA256');
  });

  it('lowers the security level for TLS 1.1', () => {
    expect(mosquittoConf({ ...base, minTlsVersion: 'TLSv1.1' }, layout)).toContain(
      'ciphers DEFAULT:@SECLEVEL=0',
    );
  });
});

describe('what Mosquitto refuses, with the reason', () => {
  it.each([
    [{ maxTlsVersion: 'TLSv1.2' as const }, /cap TLS at TLSv1.2/],
    [{ minTlsVersion: 'TLSv1' as const }, /serve TLS 1.0/],
    [{ sniRouting: { hostname: 'broker.test' } }, /route by SNI/],
    [{ clientAuth: { caPem: pki.clientCaPem, required: false } }, /optional client certificate/],
  ])('%o', (extra, reason) => {
    expect(() => checkMosquittoSupport('mosquitto', { ...base, ...extra })).toThrow(EndpointUnsupportedError);
    expect(() => checkMosquittoSupport('mosquitto', { ...base, ...extra })).toThrow(reason);
  });

  it('refuses a leaf-only chain OpenSSL would complete from the client CA file', () => {
    const config = {
      chainPem: pki.leafPem,
      keyPem: pki.leafKeyPem,
      clientAuth: { caPem: pki.intermediatePem, required: true },
    };
    expect(() => checkMosquittoSupport('mosquitto', config)).toThrow(/complete the chain from cafile/);
    expect(() =>
      checkMosquittoSupport('mosquitto', {
        ...config,
        clientAuth: { caPem: pki.clientCaPem, required: true },
      }),
    ).not.toThrow();
  });
});
