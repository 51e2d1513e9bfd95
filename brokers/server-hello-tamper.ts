import type { ClientHelloSummary } from './client-hello.ts';

/**
 * ServerHellos no TLS library will send, made by changing bytes of a real one on its way to the
 * client (same length, so the records stay well formed): what TLS-Anvil asks of a client's
 * ServerHello checks. The Finished MAC covers the ServerHello, so such a handshake can never
 * complete; what tells a client that checks from one that does not is where it stops — an alert
 * right after the ServerHello, or its key exchange sent as if nothing were wrong.
 */
export const SERVER_HELLO_TAMPERS = ['downgrade-sentinel', 'unoffered-suite'] as const;
export type ServerHelloTamper = (typeof SERVER_HELLO_TAMPERS)[number];

/** RFC 8446 §4.1.3: the last 8 bytes of a TLS 1.3 server's random when it negotiates TLS 1.2. */
const DOWNGRADE_TLS12 = Buffer.from('444f574e47524401', 'hex');

/** Real TLS ≤ 1.2 suites, in the order one is picked: the first the client did not offer. */
const SUBSTITUTE_SUITES = [0xc030, 0xc02c, 0x009d, 0x009c, 0xc02f, 0xc02b, 0x0035, 0x002f, 0x000a];

const HS_SERVER_HELLO = 2;

/**
 * Changes the ServerHello at the start of this plaintext handshake record payload in place, and
 * says what it changed; null when the payload does not begin with a whole ServerHello.
 */
export function tamperServerHello(
  payload: Buffer,
  kind: ServerHelloTamper,
  hello: ClientHelloSummary | null,
): string | null {
  if (payload[0] !== HS_SERVER_HELLO || payload.length < 4) return null;
  const length = payload.readUIntBE(1, 3);
  if (payload.length < 4 + length || length < 2 + 32 + 1) return null;
  const randomAt = 4 + 2;
  if (kind === 'downgrade-sentinel') {
    DOWNGRADE_TLS12.copy(payload, randomAt + 24);
    return 'ServerHello.random ends in the TLS 1.3 downgrade sentinel DOWNGRD\\x01';
  }
  const suiteAt = randomAt + 32 + 1 + (payload[randomAt + 32] ?? 0);
  if (suiteAt + 2 > 4 + length) return null;
  const chosen = payload.readUInt16BE(suiteAt);
  const offered = new Set(hello?.cipherSuites ?? []);
  const substitute = SUBSTITUTE_SUITES.find((s) => !offered.has(s) && s !== chosen);
  if (substitute === undefined) return null;
  payload.writeUInt16BE(substitute, suiteAt);
  const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
  return `ServerHello.cipher_suite ${hex(substitute)} (not offered by the client) in place of ${hex(chosen)}`;
}
