import type { Duplex } from 'node:stream';

/** The TLS stacks the virtual modem can run its handshakes on. */
export const TLS_ENGINE_IDS = ['mbedtls', 'node', 'openssl', 'gnutls'] as const;
export type TlsEngineId = (typeof TLS_ENGINE_IDS)[number];

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/**
 * One handshake, in the terms of a TLS stack. The modem dialect turns its AT settings (seclevel,
 * sni, ignorelocaltime, …) and its trust personality into this; an engine never sees AT knobs.
 */
export interface TlsHandshakeRequest {
  readonly address: string;
  readonly port: number;
  /** Trust anchors (PEM bundle); null when the device has none. */
  readonly anchorsPem: string | null;
  /** False: no verification at all (mbedTLS authmode NONE, Quectel seclevel 0). */
  readonly verify: boolean;
  /** Value sent in the SNI extension; null sends none. */
  readonly sni: string | null;
  /** Name checked against the certificate; null checks no name. */
  readonly checkName: string | null;
  /**
   * `stack`: names are matched the way the engine's library does (mbedTLS 2.28 cannot match an IP
   * literal: it reads dNSName SANs only). `rfc6125`: an IP literal matches an iPAddress SAN.
   */
  readonly nameRules: 'stack' | 'rfc6125';
  readonly versions: { readonly min: TlsVersion; readonly max: TlsVersion };
  /** IANA cipher suite ids to offer; null offers the engine's defaults. */
  readonly cipherSuites: readonly number[] | null;
  /** The device's clock, against which validity is judged; null judges against the host clock. */
  readonly deviceTime: Date | null;
  /** Accept expired and not-yet-valid certificates. */
  readonly ignoreValidity: boolean;
  /** Judge only the leaf: problems of intermediates and the root are ignored. */
  readonly ignoreChainAboveLeaf: boolean;
  /** Accept signatures made with a hash or key the stack's profile refuses (SHA-1, RSA-1024…). */
  readonly ignoreSignatureProfile: boolean;
  readonly timeoutMs: number;
  /**
   * Where the client keeps its session with this server: offered again when the file holds one,
   * written after an accepted handshake. Absent: no session is kept or offered.
   */
  readonly sessionFile?: string;
  /** Client certificate chain and key (PEM) presented when the server asks (Quectel seclevel 2); absent presents none. */
  readonly clientCert?: { readonly certPem: string; readonly keyPem: string };
}

export type TlsHandshakeStage = 'connect' | 'handshake' | 'timeout' | 'engine';

export type TlsHandshakeResult =
  | {
      readonly ok: true;
      readonly engine: TlsEngineId;
      /** Application data after the handshake: write MQTT, read MQTT. */
      readonly stream: Duplex;
      readonly version: string;
      readonly cipher: string;
      /** Request fields this engine could not honour (recorded, never silently dropped). */
      readonly unsupported: readonly string[];
    }
  | {
      readonly ok: false;
      readonly engine: TlsEngineId;
      readonly stage: TlsHandshakeStage;
      /** The stack's own words (mbedTLS error text, OpenSSL verify error, GnuTLS status). */
      readonly reason: string;
      /** mbedTLS verify flags when the engine is mbedTLS. */
      readonly verifyFlags?: number;
      readonly unsupported: readonly string[];
    };

export type EngineAvailability = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface TlsEngine {
  readonly id: TlsEngineId;
  /** Whether the engine runs here; the reason says why not (tests skip with it). */
  available(): Promise<EngineAvailability>;
  handshake(request: TlsHandshakeRequest): Promise<TlsHandshakeResult>;
}

/** Quectel's sslversion numbering → a version range (0 = SSL 3.0, which no engine here speaks). */
export function quectelVersionRange(sslversion: number): TlsHandshakeRequest['versions'] | null {
  switch (sslversion) {
    case 1:
      return { min: 'TLSv1', max: 'TLSv1' };
    case 2:
      return { min: 'TLSv1.1', max: 'TLSv1.1' };
    case 3:
      return { min: 'TLSv1.2', max: 'TLSv1.2' };
    case 4:
      return { min: 'TLSv1', max: 'TLSv1.3' };
    default:
      return null;
  }
}
