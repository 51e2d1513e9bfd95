import { isIP } from 'node:net';
import tls from 'node:tls';
import type { TrustPersonality } from './personality.ts';

export interface TlsOpenRequest {
  readonly address: string;
  readonly port: number;
  /** The name the host asked the modem to dial: SNI value and hostname to check. */
  readonly dialledHost: string;
  /** Trust anchors from the uploaded CA file; null when the context names no readable file. */
  readonly caPem: string | null;
  readonly seclevel: number;
  readonly sni: boolean;
  readonly sslversion: number;
  readonly negotiateTimeoutMs: number;
  readonly personality: TrustPersonality;
}

export type TlsOpenResult =
  | { readonly ok: true; readonly socket: tls.TLSSocket }
  | { readonly ok: false; readonly reason: string };

const VERSION_RANGES: Record<number, { min: tls.SecureVersion; max: tls.SecureVersion } | undefined> = {
  1: { min: 'TLSv1', max: 'TLSv1' },
  2: { min: 'TLSv1.1', max: 'TLSv1.1' },
  3: { min: 'TLSv1.2', max: 'TLSv1.2' },
  4: { min: 'TLSv1.2', max: 'TLSv1.3' },
};

/**
 * Opens TLS the way the modem's context says: the uploaded CA is the only trust anchor (an empty
 * list, never Node's built-in store), seclevel 0 verifies nothing, SNI only when enabled.
 */
export function openTls(req: TlsOpenRequest): Promise<TlsOpenResult> {
  const range = VERSION_RANGES[req.sslversion];
  if (!range) return Promise.resolve({ ok: false, reason: `sslversion ${req.sslversion} unsupported` });
  const verify = req.seclevel >= 1;
  const sendSni = req.sni && isIP(req.dialledHost) === 0;
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: req.address,
      port: req.port,
      ca: req.caPem === null ? [] : [req.caPem],
      ...(sendSni ? { servername: req.dialledHost } : { servername: '' }),
      rejectUnauthorized: verify,
      minVersion: range.min,
      maxVersion: range.max,
      checkServerIdentity: (_host, cert) =>
        verify && req.personality.checkHostname ? tls.checkServerIdentity(req.dialledHost, cert) : undefined,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, reason: `negotiation exceeded ${req.negotiateTimeoutMs} ms` });
    }, req.negotiateTimeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve({ ok: true, socket });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, reason: err.message });
    });
  });
}
