import { alertByName, alertByNumber, type TlsAlert } from './alerts.ts';

/** One Mosquitto 2.0 log line, as far as the observation record needs it. */
export type MosquittoLogEvent =
  | { readonly kind: 'running' }
  | { readonly kind: 'new-connection'; readonly remotePort: number; readonly listenerPort: number }
  | {
      readonly kind: 'client-connected';
      readonly remotePort: number;
      readonly clientId: string;
      readonly protocolLevel: number;
      readonly username: string | null;
    }
  | { readonly kind: 'openssl-error'; readonly reason: string }
  | { readonly kind: 'publish'; readonly clientId: string; readonly topic: string; readonly bytes: number }
  | { readonly kind: 'disconnected'; readonly clientId: string | null; readonly reason: string | null };

/** Mosquitto's `p` code in "New client connected … (p2, …)" → the MQTT protocol level on the wire. */
const PROTOCOL_LEVELS: Record<number, number> = { 1: 3, 2: 4, 5: 5 };

const PATTERNS: [RegExp, (m: RegExpExecArray) => MosquittoLogEvent][] = [
  [/^mosquitto version \S+ running$/, () => ({ kind: 'running' })],
  [
    /^New connection from \S+?:(\d+) on port (\d+)\.$/,
    (m) => ({ kind: 'new-connection', remotePort: Number(m[1]), listenerPort: Number(m[2]) }),
  ],
  [
    /^New client connected from \S+?:(\d+) as (\S+) \(p(\d+), c\d+, k\d+(?:, u'([^']*)')?\)\.$/,
    (m) => ({
      kind: 'client-connected',
      remotePort: Number(m[1]),
      clientId: m[2] ?? '',
      protocolLevel: PROTOCOL_LEVELS[Number(m[3])] ?? Number(m[3]),
      username: m[4] ?? null,
    }),
  ],
  [
    /^OpenSSL Error\[\d+\]: error:[0-9A-Fa-f]+:SSL routines:[^:]*:(.+)$/,
    (m) => ({ kind: 'openssl-error', reason: (m[1] ?? '').trim() }),
  ],
  [
    /^Received PUBLISH from (\S+) \(d\d, q\d, r\d, m\d+, '(.*)', \.\.\. \((\d+) bytes\)\)$/,
    (m) => ({ kind: 'publish', clientId: m[1] ?? '', topic: m[2] ?? '', bytes: Number(m[3]) }),
  ],
  [
    /^Client (\S+) (?:disconnected(?:: (.+?))?|closed its connection)\.$/,
    (m) => ({
      kind: 'disconnected',
      clientId: m[1] === '<unknown>' ? null : (m[1] ?? null),
      reason: m[2] ?? null,
    }),
  ],
];

/** Parses one log line (with or without the `<timestamp>: ` prefix); null for lines of no interest. */
export function parseMosquittoLine(line: string): MosquittoLogEvent | null {
  const text = line
    .replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d: /, '')
    .replace(/^\d+: /, '')
    .trim();
  for (const [pattern, build] of PATTERNS) {
    const m = pattern.exec(text);
    if (m) return build(m);
  }
  return null;
}

/**
 * What an OpenSSL reason string in Mosquitto's log means. The log carries the reason, never the
 * alert number: "tlsv1 alert unknown ca" is the alert the CLIENT sent; the others are the server's
 * own verdicts, mapped to the alert OpenSSL sends for them (marked inferred by the caller).
 */
export function classifyOpensslReason(
  reason: string,
  version: string | null,
): { clientAlert: TlsAlert } | { serverAlert: TlsAlert | null; error: string } {
  const peer = /^(?:sslv3|tlsv1|tlsv13) alert (.+)$/.exec(reason);
  if (peer?.[1]) {
    const alert = alertByName(peer[1]);
    if (alert) return { clientAlert: alert };
  }
  const error = reason.replaceAll(' ', '-');
  if (/peer did not return a certificate/.test(reason)) {
    return { serverAlert: alertByNumber(version === 'TLSv1.3' ? 116 : 40), error };
  }
  if (/certificate verify failed/.test(reason)) return { serverAlert: alertByNumber(48), error };
  if (/unsupported protocol|version too low|wrong ssl version/.test(reason)) {
    return { serverAlert: alertByNumber(70), error };
  }
  if (/no shared cipher|no suitable signature algorithm/.test(reason)) {
    return { serverAlert: alertByNumber(40), error };
  }
  return { serverAlert: null, error };
}
