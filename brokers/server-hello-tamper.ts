import type { ClientHelloSummary } from './client-hello.ts';

/**
 * ServerHellos no TLS library will send, made by changing bytes of a real one on its way to the
 * client (lengths kept consistent, so the records stay well formed): what TLS-Anvil asks of a client's
 * ServerHello checks. The Finished MAC covers the ServerHello, so such a handshake can never
 * complete; what tells a client that checks from one that does not is where it stops — an alert
 * right after the ServerHello, or its key exchange sent as if nothing were wrong.
 */
export const SERVER_HELLO_TAMPERS = ['downgrade-sentinel', 'unoffered-suite', 'unrequested-alpn'] as const;
export type ServerHelloTamper = (typeof SERVER_HELLO_TAMPERS)[number];

/** RFC 8446 §4.1.3: the last 8 bytes of a TLS 1.3 server's random when it negotiates TLS 1.2. */
const DOWNGRADE_TLS12 = Buffer.from('444f574e47524401', 'hex');

/** Real TLS ≤ 1.2 suites, in the order one is picked: the first the client did not offer. */
const SUBSTITUTE_SUITES = [0xc030, 0xc02c, 0x009d, 0x009c, 0xc02f, 0xc02b, 0x0035, 0x002f, 0x000a];

const HS_SERVER_HELLO = 2;

/** The changed record payload and, in words, what changed. */
export interface TamperResult {
  readonly payload: Buffer;
  readonly change: string;
}

/** The protocol an ALPN extension names when the client offered none, or none of its own. */
const UNOFFERED_PROTOCOL = 'trustlab-unoffered';

/**
 * Changes the ServerHello at the start of this plaintext handshake record payload and says what it
 * changed; null when the payload does not begin with a whole ServerHello.
 */
export function tamperServerHello(
  payload: Buffer,
  kind: ServerHelloTamper,
  hello: ClientHelloSummary | null,
): TamperResult | null {
  if (payload[0] !== HS_SERVER_HELLO || payload.length < 4) return null;
  const length = payload.readUIntBE(1, 3);
  if (payload.length < 4 + length || length < 2 + 32 + 1) return null;
  const randomAt = 4 + 2;
  const suiteAt = randomAt + 32 + 1 + (payload[randomAt + 32] ?? 0);
  if (suiteAt + 3 > 4 + length) return null;
  const out = Buffer.from(payload);
  if (kind === 'downgrade-sentinel') {
    DOWNGRADE_TLS12.copy(out, randomAt + 24);
    return { payload: out, change: 'ServerHello.random ends in the TLS 1.3 downgrade sentinel DOWNGRD\\x01' };
  }
  if (kind === 'unoffered-suite') {
    const chosen = out.readUInt16BE(suiteAt);
    const offered = new Set(hello?.cipherSuites ?? []);
    const substitute = SUBSTITUTE_SUITES.find((s) => !offered.has(s) && s !== chosen);
    if (substitute === undefined) return null;
    out.writeUInt16BE(substitute, suiteAt);
    const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
    return {
      payload: out,
      change: `ServerHello.cipher_suite ${hex(substitute)} (not offered by the client) in place of ${hex(chosen)}`,
    };
  }
  return withAlpn(payload, suiteAt + 3, length, hello);
}

/** Adds an ALPN extension naming a protocol the client did not offer (or offered no ALPN at all). */
function withAlpn(
  payload: Buffer,
  extensionsAt: number,
  length: number,
  hello: ClientHelloSummary | null,
): TamperResult | null {
  const end = 4 + length;
  const hasBlock = extensionsAt + 2 <= end;
  if (hasBlock && extensionsAt + 2 + payload.readUInt16BE(extensionsAt) !== end) return null;
  const name = Buffer.from(UNOFFERED_PROTOCOL, 'latin1');
  const ext = Buffer.alloc(4 + 2 + 1 + name.length);
  ext.writeUInt16BE(16, 0);
  ext.writeUInt16BE(2 + 1 + name.length, 2);
  ext.writeUInt16BE(1 + name.length, 4);
  ext.writeUInt8(name.length, 6);
  name.copy(ext, 7);
  const block = hasBlock ? payload.subarray(extensionsAt + 2, end) : Buffer.alloc(0);
  const blockLength = Buffer.alloc(2);
  blockLength.writeUInt16BE(block.length + ext.length);
  const body = Buffer.concat([payload.subarray(4, extensionsAt), blockLength, block, ext]);
  const header = Buffer.from([HS_SERVER_HELLO, 0, 0, 0]);
  header.writeUIntBE(body.length, 1, 3);
  const offered = hello?.alpn ?? null;
  return {
    payload: Buffer.concat([header, body, payload.subarray(end)]),
    change:
      offered && offered.length > 0
        ? `ServerHello selects ALPN "${UNOFFERED_PROTOCOL}", not among the client's ${offered.map((p) => `"${p}"`).join(', ')}`
        : `ServerHello carries an ALPN extension ("${UNOFFERED_PROTOCOL}") the client never asked for`,
  };
}
