import { isIP } from 'node:net';
import { type TrustPersonality, trustAnchors } from '../personality.ts';
import type { TlsHandshakeRequest } from '../tls/engine.ts';
import type { SslContext } from './ssl-contexts.ts';

/** "sslversion" → versions: 0 is SSL 3.0 (no engine), 4 is every version this stack has, TLS 1.0 to 1.2. */
const VERSIONS: Readonly<Record<string, TlsHandshakeRequest['versions']>> = {
  '1': { min: 'TLSv1', max: 'TLSv1' },
  '2': { min: 'TLSv1.1', max: 'TLSv1.1' },
  '3': { min: 'TLSv1.2', max: 'TLSv1.2' },
  '4': { min: 'TLSv1', max: 'TLSv1.2' },
};

export interface SimcomTlsInputs {
  readonly context: SslContext;
  readonly personality: TrustPersonality;
  /** Contents of the certificates the context names; null when absent. */
  readonly cacertPem: string | null;
  readonly clientcertPem: string | null;
  readonly clientkeyPem: string | null;
  readonly address: string;
  readonly port: number;
  readonly dialledHost: string;
  readonly deviceTime: Date;
}

/**
 * One SSL context and the personality → one handshake request:
 * - authmode 0 → no verification; 1 and 2 → the server chain against the named CA; 3 (client only)
 *   → no server verification;
 * - sslversion → the version range (this stack stops at TLS 1.2);
 * - enableSNI → SNI of the dialled name (for `knob` personalities); the name check follows the personality;
 * - ignorelocaltime 1 → validity not checked; 0 → checked against the module clock;
 * - negotiatetime → handshake timeout;
 * - authmode 2 or 3 with clientcert + clientkey naming stored certificates → presented when asked.
 */
export function simcomTlsRequest(i: SimcomTlsInputs): TlsHandshakeRequest | { readonly refused: string } {
  const ctx = i.context;
  const versions = VERSIONS[ctx.sslversion];
  if (!versions) return { refused: `sslversion ${ctx.sslversion} (SSL 3.0) is not offered by any engine` };
  const p = i.personality;
  const mode = Number(ctx.authmode);
  const verify = p.verification === 'seclevel' && (mode === 1 || mode === 2);
  const sniOn = ctx.enableSNI === '1';
  const sniWanted = p.sni === 'never' ? false : p.sni === 'hostname' ? true : sniOn;
  const sni = sniWanted && !(p.nameRules === 'rfc6125' && isIP(i.dialledHost)) ? i.dialledHost : null;
  const checkName =
    p.nameCheck === 'dialled' ? i.dialledHost : p.nameCheck === 'hostname' && sniOn ? i.dialledHost : null;
  return {
    address: i.address,
    port: i.port,
    anchorsPem: trustAnchors(p, i.cacertPem),
    verify,
    sni,
    checkName,
    nameRules: p.nameRules,
    versions,
    cipherSuites: null,
    deviceTime: i.deviceTime,
    ignoreValidity: ctx.ignorelocaltime === '1',
    ignoreChainAboveLeaf: false,
    ignoreSignatureProfile: false,
    timeoutMs: Number(ctx.negotiatetime) * 1000,
    ...((mode === 2 || mode === 3) && i.clientcertPem && i.clientkeyPem
      ? { clientCert: { certPem: i.clientcertPem, keyPem: i.clientkeyPem } }
      : {}),
  };
}
