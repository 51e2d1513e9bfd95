import { isIP } from 'node:net';
import tls from 'node:tls';
import { type ControlRequest, type ControlResult, DEFAULT_CONTROL_TIMEOUT_MS } from './control.ts';

/**
 * Node's own TLS client with the anchors as its only CAs. It cannot take a device clock, so it
 * reports validity cases at another time as unavailable.
 */
export function nodeControl(req: ControlRequest): Promise<ControlResult> {
  if (req.atTime && Math.abs(req.atTime.getTime() - Date.now()) > 60_000) {
    return Promise.resolve({
      client: 'node',
      status: 'unavailable',
      reason: null,
      detail: 'Node tls verifies at the current time only',
    });
  }
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: req.connectHost,
      port: req.port,
      ca: req.anchorsPem === null ? [] : [req.anchorsPem],
      servername: req.sni && !isIP(req.dialledHost) ? req.dialledHost : '',
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(req.dialledHost, cert),
      ...(req.clientCert ? { cert: req.clientCert.certPem, key: req.clientCert.keyPem } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ client: 'node', status: 'error', reason: null, detail: 'timed out' });
    }, req.timeoutMs ?? DEFAULT_CONTROL_TIMEOUT_MS);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.end();
      resolve({
        client: 'node',
        status: 'accepted',
        reason: null,
        detail: `${socket.getProtocol()} ${socket.getCipher().name}`,
      });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ client: 'node', status: 'rejected', reason: err.code ?? err.message, detail: err.message });
    });
  });
}
