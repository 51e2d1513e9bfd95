/** What a reference client is asked to do: connect to an endpoint the way the device would. */
export interface ControlRequest {
  /** Where the endpoint listens (always loopback in tests). */
  readonly connectHost: string;
  readonly port: number;
  /** The name the device dials: the hostname to verify, and the SNI when `sni` is set. */
  readonly dialledHost: string;
  readonly sni: boolean;
  /** Trust anchors the device was given; null means none at all (never the system store). */
  readonly anchorsPem: string | null;
  /** The device clock when it differs from now (validity cases); clients that cannot set it say so. */
  readonly atTime?: Date;
  readonly clientCert?: { readonly certPem: string; readonly keyPem: string };
  /**
   * OpenSSL verify options for s_client (-x509_strict, -purpose sslserver, -auth_level 2,
   * -partial_chain …): the catalogue entry's flags, so its reason can be compared with the entry's.
   */
  readonly opensslVerifyFlags?: readonly string[];
  readonly timeoutMs?: number;
}

export type ControlClient = 'node' | 'openssl' | 'gnutls';

/**
 * A reference client's verdict on the same chain. `status: 'unavailable'` when the tool is not
 * installed or cannot express the request (e.g. a device clock for GnuTLS); `detail` says why.
 */
export interface ControlResult {
  readonly client: ControlClient;
  readonly status: 'accepted' | 'rejected' | 'unavailable' | 'error';
  /** The client's own reason: OpenSSL verify code and text, GnuTLS status line, Node error code. */
  readonly reason: string | null;
  readonly detail: string;
}

export const DEFAULT_CONTROL_TIMEOUT_MS = 10_000;
