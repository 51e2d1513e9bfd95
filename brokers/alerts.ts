/** TLS alert descriptions (RFC 8446 §6, RFC 5246 §7.2) by number. */
const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

export interface TlsAlert {
  readonly number: number;
  readonly name: string;
}

export function alertByNumber(n: number): TlsAlert {
  return { number: n, name: ALERT_NAMES[n] ?? `alert_${n}` };
}

/**
 * The alert a TLS peer sent, as OpenSSL reports it. Node exposes no field for it; the number is
 * only in the error text ("SSL alert number 48").
 */
export function alertFromError(err: Error): TlsAlert | null {
  const m = /SSL alert number (\d+)/.exec(err.message);
  return m?.[1] ? alertByNumber(Number(m[1])) : null;
}

/** The alert whose name (as in ALERT_NAMES, or with spaces as OpenSSL prints it) is `name`. */
export function alertByName(name: string): TlsAlert | null {
  const wanted = name.trim().toLowerCase().replaceAll(' ', '_');
  for (const [n, known] of Object.entries(ALERT_NAMES)) {
    if (known === wanted) return { number: Number(n), name: known };
  }
  return null;
}
