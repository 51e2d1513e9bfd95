import { isIP } from 'node:net';
import { type TrustPersonality, trustAnchors } from '../personality.ts';
import { quectelVersionRange, type TlsHandshakeRequest } from '../tls/engine.ts';
import type { SslContext } from './ssl-contexts.ts';

export interface QuectelTlsInputs {
  readonly context: SslContext;
  readonly personality: TrustPersonality;
  /** Contents of the files the context's cacert / cacertex name; null when absent. */
  readonly cacertPem: string | null;
  readonly cacertexPem: string | null;
  /** Contents of the files the context's clientcert / clientkey name; null when absent. */
  readonly clientcertPem?: string | null;
  readonly clientkeyPem?: string | null;
  readonly address: string;
  readonly port: number;
  readonly dialledHost: string;
  readonly deviceTime: Date;
}

/**
 * Turns one SSL context (docs/002 §2.2.1) and the personality into a handshake request, knob by knob:
 * - seclevel 0 → no verification (mbedTLS authmode NONE); 1 and 2 → required (unless the
 *   personality never verifies);
 * - sslversion → the version range; ciphersuite 0XFFFF → all, else that one suite;
 * - cacert (+ cacertex) → uploaded anchors, merged with the built-in store as the personality says;
 * - ignorelocaltime 1 → validity not checked; 0 → checked against the module clock (AT+CCLK);
 * - sni → SNI of the dialled name (for `knob` personalities); the name check follows the personality;
 * - negotiatetime → handshake timeout;
 * - ignoremulticertchainverify 1 → only the leaf is judged (our reading of "ignore multiple level
 *   certificate chain verification");
 * - ignoreinvalidcertsign 1 → signatures with a hash/key the stack's profile refuses are accepted
 *   (our reading of "ignore the invalid certificate signature"; a forged signature still fails);
 * - seclevel 2 with clientcert + clientkey naming uploaded files → that certificate and key are
 *   presented when the server asks (mutual TLS); at seclevel 0/1, or with either file missing, none;
 * - closetimemode, session_cache, ignorecertitem: no effect on a single handshake.
 * Returns the reason instead when the context asks for something no engine can do (SSL 3.0).
 */
export function quectelTlsRequest(i: QuectelTlsInputs): TlsHandshakeRequest | { readonly refused: string } {
  const ctx = i.context;
  const versions = quectelVersionRange(Number(ctx.sslversion));
  if (!versions) return { refused: `sslversion ${ctx.sslversion} (SSL 3.0) is not offered by any engine` };
  const p = i.personality;
  const verify = p.verification === 'seclevel' && Number(ctx.seclevel) >= 1;
  const sniOn = ctx.sni === '1';
  const uploaded = [i.cacertPem, i.cacertexPem].filter((x): x is string => x !== null).join('\n') || null;
  const hostnameSet = sniOn; // Quectel sets the mbedTLS hostname together with SNI
  const sniWanted = p.sni === 'never' ? false : p.sni === 'hostname' ? hostnameSet : sniOn;
  // RFC 6066: SNI carries DNS names only; a stock stack sends whatever hostname it was given.
  const sni = sniWanted && !(p.nameRules === 'rfc6125' && isIP(i.dialledHost)) ? i.dialledHost : null;
  const checkName =
    p.nameCheck === 'dialled'
      ? i.dialledHost
      : p.nameCheck === 'hostname' && hostnameSet
        ? i.dialledHost
        : null;
  const suite = Number.parseInt(ctx.ciphersuite.slice(2), 16);
  return {
    address: i.address,
    port: i.port,
    anchorsPem: trustAnchors(p, uploaded),
    verify,
    sni,
    checkName,
    nameRules: p.nameRules,
    versions,
    cipherSuites: suite === 0xffff ? null : [suite],
    deviceTime: i.deviceTime,
    ignoreValidity: ctx.ignorelocaltime === '1',
    ignoreChainAboveLeaf: ctx.ignoremulticertchainverify === '1',
    ignoreSignatureProfile: ctx.ignoreinvalidcertsign === '1',
    timeoutMs: Number(ctx.negotiatetime) * 1000,
    ...(Number(ctx.seclevel) === 2 && i.clientcertPem && i.clientkeyPem
      ? { clientCert: { certPem: i.clientcertPem, keyPem: i.clientkeyPem } }
      : {}),
  };
}
