import { describe, expect, it } from 'vitest';
import type { ClientHelloSummary } from './client-hello.ts';
import { tamperServerHello } from './server-hello-tamper.ts';

/** A TLS 1.2 ServerHello handshake message: 32-byte session id, the suite, no compression, the extensions given. */
function serverHello(suite: number, extensions: Buffer | null): Buffer {
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 0xaa), // random
    Buffer.from([32]),
    Buffer.alloc(32, 0x5e), // session id
    Buffer.from([suite >> 8, suite & 0xff, 0]),
    ...(extensions ? [Buffer.from([extensions.length >> 8, extensions.length & 0xff]), extensions] : []),
  ]);
  return Buffer.concat([Buffer.from([2, 0, body.length >> 8, body.length & 0xff]), body]);
}

const hello = (over: Partial<ClientHelloSummary>) =>
  ({ cipherSuites: [0xc02b, 0xc02f], alpn: null, ...over }) as ClientHelloSummary;
const renegotiationInfo = Buffer.from([0xff, 0x01, 0x00, 0x01, 0x00]);
const certificateAfter = Buffer.from([11, 0, 0, 3, 0, 0, 0]); // the next message in the same record

describe('changing a real ServerHello on its way to the client', () => {
  it('writes the TLS 1.3 downgrade sentinel into the last 8 bytes of the random, nothing else', () => {
    const original = Buffer.concat([serverHello(0xc02b, renegotiationInfo), certificateAfter]);
    const changed = tamperServerHello(original, 'downgrade-sentinel', hello({}));
    expect(changed?.payload.length).toBe(original.length);
    expect(changed?.payload.subarray(4 + 2 + 24, 4 + 2 + 32).toString('latin1')).toBe('DOWNGRD\x01');
    expect(changed?.payload.subarray(0, 4 + 2 + 24)).toEqual(original.subarray(0, 4 + 2 + 24));
    expect(original.subarray(4 + 2 + 24, 4 + 2 + 32)).toEqual(Buffer.alloc(8, 0xaa)); // the input is left as it was
  });

  it('names a suite the client did not offer in place of the chosen one', () => {
    const changed = tamperServerHello(
      serverHello(0xc02b, null),
      'unoffered-suite',
      hello({ cipherSuites: [0xc02b, 0xc030] }),
    );
    const suite = changed?.payload.readUInt16BE(4 + 2 + 32 + 1 + 32);
    expect(suite).toBe(0xc02c); // the first substitute neither offered nor chosen
    expect(changed?.change).toBe(
      'ServerHello.cipher_suite 0xc02c (not offered by the client) in place of 0xc02b',
    );
  });

  it('adds an ALPN extension and keeps every length consistent, with or without an extensions block', () => {
    for (const ext of [renegotiationInfo, null]) {
      const original = Buffer.concat([serverHello(0xc02b, ext), certificateAfter]);
      const changed = tamperServerHello(original, 'unrequested-alpn', hello({}));
      const out = changed?.payload as Buffer;
      const length = out.readUIntBE(1, 3);
      // The message still ends where the next one (Certificate) begins.
      expect(out.subarray(4 + length)).toEqual(certificateAfter);
      const extensionsAt = 4 + 2 + 32 + 1 + 32 + 3;
      expect(extensionsAt + 2 + out.readUInt16BE(extensionsAt)).toBe(4 + length);
      expect(out.subarray(4 + length - 'trustlab-unoffered'.length, 4 + length).toString()).toBe(
        'trustlab-unoffered',
      );
      expect(changed?.change).toMatch(/never asked for/);
    }
    const offered = tamperServerHello(
      serverHello(0xc02b, null),
      'unrequested-alpn',
      hello({ alpn: ['mqtt'] }),
    );
    expect(offered?.change).toBe(
      'ServerHello selects ALPN "trustlab-unoffered", not among the client\'s "mqtt"',
    );
  });

  it('leaves a record that does not begin with a whole ServerHello alone', () => {
    expect(tamperServerHello(certificateAfter, 'downgrade-sentinel', null)).toBeNull();
    expect(tamperServerHello(serverHello(0xc02b, null).subarray(0, 40), 'unoffered-suite', null)).toBeNull();
  });
});
