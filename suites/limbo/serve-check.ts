import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { SharedEndpointHandle } from '../../brokers/endpoint.ts';

/**
 * Before a device is asked anything, a client that verifies nothing completes a handshake with the
 * case's server on a door of its own: a case the lab cannot even serve (a certificate or key its
 * TLS server cannot use) is then skipped for that reason, never blamed on the device.
 */
export async function serverCanServe(
  endpoint: SharedEndpointHandle,
  peerName: string,
  timeoutMs = 10_000,
): Promise<{ readonly ok: true } | { readonly ok: false; readonly why: string }> {
  const door = await endpoint.listenAgain();
  try {
    return await new Promise((resolve) => {
      const socket = connect({
        host: door.listenHost,
        port: door.listenPort,
        rejectUnauthorized: false,
        // Offer everything OpenSSL can, so only the server's own limits can fail this check.
        minVersion: 'TLSv1',
        ciphers: 'ALL:@SECLEVEL=0',
        ecdhCurve: 'X25519:prime256v1:secp384r1:secp521r1:prime192v1:secp224r1',
        ...(isIP(peerName) === 0 ? { servername: peerName } : {}),
      });
      const done = (result: { ok: true } | { ok: false; why: string }) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(result);
      };
      const timer = setTimeout(
        () => done({ ok: false, why: `no handshake within ${timeoutMs} ms` }),
        timeoutMs,
      );
      socket.once('secureConnect', () => done({ ok: true }));
      socket.once('error', (error) => done({ ok: false, why: opensslWords(error.message) }));
    });
  } finally {
    await door.stop();
  }
}

/** OpenSSL's reason words out of its error line (`…:SSL routines:fn:sslv3 alert handshake failure:…`). */
function opensslWords(message: string): string {
  return /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? message.trim();
}
