import { isIP } from 'node:net';
import { type TrustPersonality, trustAnchors } from '../personality.ts';
import type { TlsHandshakeRequest } from '../tls/engine.ts';

export interface NrfTlsInputs {
  readonly personality: TrustPersonality;
  /** Root CA (type 0) stored at the socket's sec_tag; null when none. */
  readonly caPem: string | null;
  /** 0 none, 1 optional, 2 required (SLM's default for clients). */
  readonly peerVerify: number;
  /** TLS_HOSTNAME as set (SLM MQTT sets the broker URL; sockets need #XSSOCKETOPT); null when unset. */
  readonly hostname: string | null;
  readonly address: string;
  readonly port: number;
  readonly deviceTime: Date;
  readonly timeoutMs: number;
}

/**
 * nRF91 knobs → one handshake request. TLS_HOSTNAME is what enables both SNI (firmware ≥ 1.2.1,
 * the personality's `sni: 'hostname'`) and the name check; without it nothing is checked or sent.
 * peer_verify 1 ("optional") is modelled as no verification: the handshake does not fail.
 */
export function nrfTlsRequest(i: NrfTlsInputs): TlsHandshakeRequest {
  const p = i.personality;
  const verify = p.verification === 'seclevel' && i.peerVerify === 2;
  const hostname = i.hostname;
  const sniWanted = hostname !== null && p.sni !== 'never';
  const sni = sniWanted && !(p.nameRules === 'rfc6125' && isIP(hostname)) ? hostname : null;
  const checkName = p.nameCheck === 'none' ? null : hostname;
  return {
    address: i.address,
    port: i.port,
    anchorsPem: trustAnchors(p, i.caPem),
    verify,
    sni,
    checkName,
    nameRules: p.nameRules,
    versions: { min: 'TLSv1.2', max: 'TLSv1.2' }, // the modem speaks TLS 1.2 (IPPROTO_TLS_1_2, 258)
    cipherSuites: null,
    deviceTime: i.deviceTime,
    ignoreValidity: false,
    ignoreChainAboveLeaf: false,
    ignoreSignatureProfile: false,
    timeoutMs: i.timeoutMs,
  };
}
