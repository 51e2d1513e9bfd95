import { describe, expect, it } from 'vitest';
import { PERSONALITIES } from '../personality.ts';
import { newSslContexts } from './ssl-contexts.ts';
import { quectelTlsRequest } from './tls-request.ts';

const CERT = '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n';

function requestAt(seclevel: string, files: { cert: string | null; key: string | null }) {
  const ctx = { ...newSslContexts()[1], seclevel, clientcert: 'UFS:c.pem', clientkey: 'UFS:k.pem' };
  return quectelTlsRequest({
    context: ctx as ReturnType<typeof newSslContexts>[number],
    personality: PERSONALITIES.strict,
    cacertPem: null,
    cacertexPem: null,
    clientcertPem: files.cert,
    clientkeyPem: files.key,
    address: '127.0.0.1',
    port: 8883,
    dialledHost: 'mqtt.broker.test',
    deviceTime: new Date(),
  });
}

describe('QSSLCFG clientcert / clientkey', () => {
  it('present the uploaded certificate and key at seclevel 2 only', () => {
    expect(requestAt('2', { cert: CERT, key: KEY })).toMatchObject({
      clientCert: { certPem: CERT, keyPem: KEY },
    });
    expect(requestAt('1', { cert: CERT, key: KEY })).not.toHaveProperty('clientCert');
    expect(requestAt('0', { cert: CERT, key: KEY })).not.toHaveProperty('clientCert');
  });
  it('present nothing when either named file is missing from UFS', () => {
    expect(requestAt('2', { cert: CERT, key: null })).not.toHaveProperty('clientCert');
    expect(requestAt('2', { cert: null, key: KEY })).not.toHaveProperty('clientCert');
  });
});
