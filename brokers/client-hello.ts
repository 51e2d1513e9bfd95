/** What a client offered in its ClientHello, read from the raw bytes before TLS sees them. */
export interface ClientHelloSummary {
  /** SNI host name, or null when the client sent no server_name extension. */
  readonly sni: string | null;
  readonly legacyVersion: string;
  readonly offeredVersions: string[];
  readonly cipherSuites: number[];
  readonly signatureAlgorithms: number[];
  /** supported_groups (named curves and FFDHE groups), GREASE removed; empty when not offered. */
  readonly supportedGroups: number[];
  /** Length of the legacy session id: non-zero when the client asks to resume (or, in TLS 1.3, for compatibility). */
  readonly sessionIdLength: number;
  /** The legacy session id (hex): equal to one the server issued when the client asks to resume by id. */
  readonly sessionId: string;
  /** Bytes of ticket in the session_ticket extension: > 0 offers a ticket, 0 asks for one; null when absent. */
  readonly sessionTicketBytes: number | null;
  /** Extension type numbers in the order offered (GREASE removed). */
  readonly extensions: number[];
  /** ALPN protocols offered, in order; null when the client sent no ALPN extension. */
  readonly alpn: string[] | null;
  /** max_fragment_length code (1=512 … 4=4096) when offered. */
  readonly maxFragmentLength: number | null;
}

export type ClientHelloParse =
  | { readonly status: 'incomplete' }
  | { readonly status: 'not-tls'; readonly firstByte: number }
  | { readonly status: 'malformed'; readonly reason: string }
  | { readonly status: 'ok'; readonly hello: ClientHelloSummary };

const VERSION_NAMES: Record<number, string> = {
  768: 'SSLv3',
  769: 'TLSv1',
  770: 'TLSv1.1',
  771: 'TLSv1.2',
  772: 'TLSv1.3',
};

const isGrease = (v: number) => (v & 0x0f0f) === 0x0a0a;
const versionName = (v: number) => VERSION_NAMES[v] ?? `0x${v.toString(16).padStart(4, '0')}`;

/** Joins the payloads of consecutive handshake records; a ClientHello may span several. */
function handshakePayload(buf: Buffer): Buffer | 'incomplete' | 'not-tls' {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 5 <= buf.length) {
    if (buf[offset] !== 0x16) return parts.length === 0 ? 'not-tls' : Buffer.concat(parts);
    const length = buf.readUInt16BE(offset + 3);
    if (offset + 5 + length > buf.length) break;
    parts.push(buf.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  if (buf.length > 0 && buf[0] !== 0x16) return 'not-tls';
  return parts.length === 0 ? 'incomplete' : Buffer.concat(parts);
}

class Reader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}
  need(n: number): void {
    if (this.offset + n > this.buf.length) throw new Error(`truncated at byte ${this.offset}`);
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.offset++);
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  vector(lengthBytes: 1 | 2): Reader {
    return new Reader(this.bytes(lengthBytes === 1 ? this.u8() : this.u16()));
  }
  rest(): Buffer {
    return this.bytes(this.buf.length - this.offset);
  }
  get done(): boolean {
    return this.offset >= this.buf.length;
  }
}

function u16List(r: Reader): number[] {
  const out: number[] = [];
  while (!r.done) out.push(r.u16());
  return out;
}

function parseSni(r: Reader): string | null {
  const list = r.vector(2);
  while (!list.done) {
    const type = list.u8();
    const name = list.vector(2);
    if (type === 0) return name.rest().toString('latin1');
  }
  return null;
}

function parseAlpn(r: Reader): string[] {
  const list = r.vector(2);
  const out: string[] = [];
  while (!list.done) out.push(list.vector(1).rest().toString('latin1'));
  return out;
}

/** Parses the first ClientHello in `buf`; says `incomplete` until all of its bytes are there. */
export function parseClientHello(buf: Buffer): ClientHelloParse {
  const payload = handshakePayload(buf);
  if (payload === 'not-tls') return { status: 'not-tls', firstByte: buf[0] ?? 0 };
  if (payload === 'incomplete' || payload.length < 4) return { status: 'incomplete' };
  if (payload[0] !== 0x01)
    return { status: 'malformed', reason: `handshake type ${payload[0]} is not ClientHello` };
  const bodyLength = payload.readUIntBE(1, 3);
  if (payload.length < 4 + bodyLength) return { status: 'incomplete' };
  try {
    const r = new Reader(payload.subarray(4, 4 + bodyLength));
    const legacy = r.u16();
    r.bytes(32); // random
    const sessionIdBytes = r.vector(1).rest();
    const sessionIdLength = sessionIdBytes.length;
    const cipherSuites = u16List(r.vector(2)).filter((c) => !isGrease(c));
    r.vector(1); // compression methods
    let sni: string | null = null;
    let offeredVersions = [versionName(legacy)];
    let signatureAlgorithms: number[] = [];
    let supportedGroups: number[] = [];
    let maxFragmentLength: number | null = null;
    let sessionTicketBytes: number | null = null;
    let alpn: string[] | null = null;
    const extensions: number[] = [];
    const exts = r.done ? new Reader(Buffer.alloc(0)) : r.vector(2);
    while (!exts.done) {
      const type = exts.u16();
      const body = exts.vector(2);
      if (isGrease(type)) continue;
      extensions.push(type);
      if (type === 0) sni = parseSni(body);
      else if (type === 1) maxFragmentLength = body.u8();
      else if (type === 35) sessionTicketBytes = body.rest().length;
      else if (type === 16) alpn = parseAlpn(body);
      else if (type === 13) signatureAlgorithms = u16List(body.vector(2));
      else if (type === 10) supportedGroups = u16List(body.vector(2)).filter((g) => !isGrease(g));
      else if (type === 43) {
        offeredVersions = u16List(body.vector(1))
          .filter((v) => !isGrease(v))
          .map(versionName);
      }
    }
    return {
      status: 'ok',
      hello: {
        sni,
        legacyVersion: versionName(legacy),
        offeredVersions,
        cipherSuites,
        signatureAlgorithms,
        supportedGroups,
        sessionIdLength,
        sessionId: sessionIdBytes.toString('hex'),
        sessionTicketBytes,
        alpn,
        extensions,
        maxFragmentLength,
      },
    };
  } catch (err) {
    return { status: 'malformed', reason: (err as Error).message };
  }
}
