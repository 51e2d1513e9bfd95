import { X509Certificate } from 'node:crypto';
import { alertByNumber } from './alerts.ts';
import { cipherSuiteName } from './cipher-suites.ts';
import type { ConnectionObservation, RecordStats, SeenCertificate } from './observation.ts';

const CHANGE_CIPHER_SPEC = 20;
const ALERT = 21;
const HANDSHAKE = 22;
const APPLICATION_DATA = 23;

const HS_SERVER_HELLO = 2;
export const HS_CERTIFICATE = 11;
const HS_CLIENT_KEY_EXCHANGE = 16;
const HS_CERTIFICATE_REQUEST = 13;

const VERSION_NAMES: Record<number, string> = {
  769: 'TLSv1',
  770: 'TLSv1.1',
  771: 'TLSv1.2',
  772: 'TLSv1.3',
};

export interface TlsRecord {
  readonly type: number;
  readonly version: number;
  readonly payload: Buffer;
}

/** Cuts a byte stream into TLS records; keeps an incomplete tail for the next chunk. */
export class RecordSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): TlsRecord[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: TlsRecord[] = [];
    let offset = 0;
    while (offset + 5 <= this.pending.length) {
      const length = this.pending.readUInt16BE(offset + 3);
      if (offset + 5 + length > this.pending.length) break;
      out.push({
        type: this.pending[offset] ?? 0,
        version: this.pending.readUInt16BE(offset + 1),
        payload: this.pending.subarray(offset + 5, offset + 5 + length),
      });
      offset += 5 + length;
    }
    this.pending = this.pending.subarray(offset);
    return out;
  }
}

export function encodeRecord(type: number, version: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header[0] = type;
  header.writeUInt16BE(version, 1);
  header.writeUInt16BE(payload.length, 3);
  return Buffer.concat([header, payload]);
}

/**
 * Re-cuts plaintext handshake records into records of at most `fragment` bytes. Legal TLS (a
 * handshake message may span records) and exactly what mbedTLS before 3.6.3 cannot reassemble.
 * Encrypted records pass unchanged: an engine that must fragment those has to do it itself.
 */
export function refragmentHandshake(record: TlsRecord, fragment: number): Buffer[] {
  if (record.type !== HANDSHAKE || record.payload.length <= fragment) {
    return [encodeRecord(record.type, record.version, record.payload)];
  }
  const out: Buffer[] = [];
  for (let i = 0; i < record.payload.length; i += fragment) {
    out.push(encodeRecord(record.type, record.version, record.payload.subarray(i, i + fragment)));
  }
  return out;
}

function describeCertificate(der: Buffer): SeenCertificate {
  try {
    const cert = new X509Certificate(der);
    return {
      subject: cert.subject.replaceAll('\n', ', '),
      issuer: cert.issuer.replaceAll('\n', ', '),
      sha256: cert.fingerprint256,
    };
  } catch {
    return { subject: '(unparsable)', issuer: '(unparsable)', sha256: '' };
  }
}

/** TLS ≤ 1.2 Certificate message body: u24 list length, then u24-prefixed DER certificates. */
function parseCertificateList(body: Buffer): SeenCertificate[] {
  const certs: SeenCertificate[] = [];
  if (body.length < 3) return certs;
  const total = body.readUIntBE(0, 3);
  let offset = 3;
  while (offset + 3 <= 3 + total && offset + 3 <= body.length) {
    const length = body.readUIntBE(offset, 3);
    certs.push(describeCertificate(body.subarray(offset + 3, offset + 3 + length)));
    offset += 3 + length;
  }
  return certs;
}

/** ServerHello: version (supported_versions wins over legacy_version) and the chosen suite. */
function parseServerHello(
  body: Buffer,
): { version: number; cipher: number; sessionId: string; pskAccepted: boolean } | null {
  try {
    let offset = 2 + 32; // legacy_version, random
    const legacy = body.readUInt16BE(0);
    const idLength = body[offset] ?? 0;
    const sessionId = body.subarray(offset + 1, offset + 1 + idLength).toString('hex');
    offset += 1 + idLength;
    const cipher = body.readUInt16BE(offset);
    offset += 2 + 1; // suite, compression
    let version = legacy;
    let pskAccepted = false;
    if (offset + 2 <= body.length) {
      const end = offset + 2 + body.readUInt16BE(offset);
      offset += 2;
      while (offset + 4 <= end) {
        const type = body.readUInt16BE(offset);
        const length = body.readUInt16BE(offset + 2);
        if (type === 43 && length === 2) version = body.readUInt16BE(offset + 4);
        if (type === 41) pskAccepted = true; // TLS 1.3 pre_shared_key: the server resumes
        offset += 4 + length;
      }
    }
    return { version, cipher, sessionId, pskAccepted };
  } catch {
    return null;
  }
}

/** DER lengths of the certificates in a TLS ≤ 1.2 Certificate message body. */
export function certificateLengths(body: Buffer): number[] {
  const lengths: number[] = [];
  if (body.length < 3) return lengths;
  const end = Math.min(body.length, 3 + body.readUIntBE(0, 3));
  for (let offset = 3; offset + 3 <= end; ) {
    const length = body.readUIntBE(offset, 3);
    lengths.push(length);
    offset += 3 + length;
  }
  return lengths;
}

/** Per-direction state: plaintext handshake reassembly until that side starts encrypting. */
export class DirectionTap {
  readonly records = new RecordSplitter();
  private handshakeBytes: Buffer = Buffer.alloc(0);
  /** Records that contributed to the message at the head of `handshakeBytes`. */
  private recordsInMessage = 0;
  changeCipherSpec = false;
  applicationData = 0;

  constructor(private readonly stats: RecordStats = { bytes: 0, records: 0, maxRecordLength: 0 }) {}

  /** Feeds one record; returns the complete plaintext handshake messages it finished. */
  take(record: TlsRecord): { type: number; body: Buffer; records: number }[] {
    this.stats.records++;
    this.stats.maxRecordLength = Math.max(this.stats.maxRecordLength, record.payload.length);
    if (record.type === CHANGE_CIPHER_SPEC) this.changeCipherSpec = true;
    if (record.type === APPLICATION_DATA) this.applicationData++;
    if (record.type !== HANDSHAKE || this.changeCipherSpec) return [];
    this.handshakeBytes = Buffer.concat([this.handshakeBytes, record.payload]);
    this.recordsInMessage++;
    const messages: { type: number; body: Buffer; records: number }[] = [];
    while (this.handshakeBytes.length >= 4) {
      const length = this.handshakeBytes.readUIntBE(1, 3);
      if (this.handshakeBytes.length < 4 + length) break;
      messages.push({
        type: this.handshakeBytes[0] ?? 0,
        body: this.handshakeBytes.subarray(4, 4 + length),
        records: this.recordsInMessage,
      });
      this.handshakeBytes = this.handshakeBytes.subarray(4 + length);
      this.recordsInMessage = this.handshakeBytes.length > 0 ? 1 : 0;
    }
    return messages;
  }
}

/**
 * Reads both directions of one connection at the TLS record layer and writes what it can see into
 * the observation's `wire` summary (plus plaintext alerts). It never alters the bytes it reads.
 */
export class WireTap {
  private readonly client: DirectionTap;
  private readonly server: DirectionTap;
  private version: number | null = null;
  private clientAlertSeen = false;

  constructor(private readonly obs: ConnectionObservation) {
    this.client = new DirectionTap(obs.wire.fromClient);
    this.server = new DirectionTap(obs.wire.fromServer);
  }

  fromClient(chunk: Buffer): void {
    this.obs.wire.fromClient.bytes += chunk.length;
    for (const record of this.client.records.push(chunk)) this.clientRecord(record);
  }

  fromServer(chunk: Buffer): void {
    this.obs.wire.fromServer.bytes += chunk.length;
    for (const record of this.server.records.push(chunk)) this.serverRecord(record);
  }

  /** Whether the server has started encrypting (its handshake records are no longer readable). */
  get serverEncrypting(): boolean {
    return this.server.changeCipherSpec || (this.version ?? 0) >= 0x0304;
  }

  private clientRecord(record: TlsRecord): void {
    const alert = plaintextAlert(record);
    if (alert && !this.clientAlertSeen) {
      this.clientAlertSeen = true;
      this.obs.clientAlert ??= alert;
      this.obs.clientAlertSource ??= 'wire';
      // A fatal alert ends the connection: the client closed it, whichever FIN reaches us first.
      if (alert.number !== 0) this.obs.closedBy = 'client';
    }
    for (const m of this.client.take(record)) {
      if (m.type === HS_CERTIFICATE && this.version !== null && this.version < 0x0304) {
        this.obs.wire.clientChain = parseCertificateList(m.body);
      }
      if (m.type === HS_CLIENT_KEY_EXCHANGE) this.obs.wire.clientKeyExchangeSeen = true;
    }
    this.checkComplete();
  }

  private serverRecord(record: TlsRecord): void {
    const alert = plaintextAlert(record);
    // What the wire shows beats what an engine inferred from an error code.
    if (alert && alert.number !== 0 && (!this.obs.serverAlert || this.obs.serverAlertSource === 'inferred')) {
      this.obs.serverAlert = alert;
      this.obs.serverAlertSource = 'wire';
    }
    // In TLS 1.3 the server's first flight after the ServerHello is encrypted, Certificate included.
    if (record.type === APPLICATION_DATA && this.version === 0x0304) {
      this.obs.wire.servedChain = null;
      this.obs.wire.certificateRequested = null;
    }
    for (const m of this.server.take(record)) {
      if (m.type === HS_SERVER_HELLO) {
        const hello = parseServerHello(m.body);
        if (hello) {
          this.version = hello.version;
          this.obs.wire.serverHello = {
            version: VERSION_NAMES[hello.version] ?? `0x${hello.version.toString(16)}`,
            cipher: cipherSuiteName(hello.cipher),
            sessionId: hello.sessionId,
            pskAccepted: hello.pskAccepted,
          };
          if (hello.version < 0x0304) this.obs.wire.certificateRequested = false;
        }
      } else if (m.type === HS_CERTIFICATE) {
        this.obs.wire.servedChain = parseCertificateList(m.body);
        this.obs.wire.certificateRecords = m.records;
        this.obs.wire.servedChainBytes = certificateLengths(m.body).reduce((a, b) => a + b, 0);
      } else if (m.type === HS_CERTIFICATE_REQUEST) {
        this.obs.wire.certificateRequested = true;
      }
    }
    this.checkComplete();
  }

  /**
   * TLS ≤ 1.2: both sides sent ChangeCipherSpec and the client sent no alert. TLS 1.3: the server
   * wrote encrypted records after the client's first encrypted record (its Finished) — a server
   * sends session tickets or application data only once it has verified that Finished.
   */
  private checkComplete(): void {
    if (this.obs.wire.handshakeCompleteSeen || this.version === null || this.clientAlertSeen) return;
    if (this.version < 0x0304) {
      this.obs.wire.handshakeCompleteSeen = this.client.changeCipherSpec && this.server.changeCipherSpec;
    } else if (this.client.applicationData > 0 && this.serverAppDataAfterClient()) {
      this.obs.wire.handshakeCompleteSeen = true;
    }
  }

  private serverAppDataSnapshot = -1;
  private serverAppDataAfterClient(): boolean {
    // Remember how many encrypted server records existed when the client first sent one.
    if (this.serverAppDataSnapshot < 0) this.serverAppDataSnapshot = this.server.applicationData;
    return this.server.applicationData > this.serverAppDataSnapshot;
  }
}

function plaintextAlert(record: TlsRecord) {
  // An encrypted alert is longer than two bytes (TLS 1.2) or hides as application data (TLS 1.3).
  if (record.type !== ALERT || record.payload.length !== 2) return null;
  return alertByNumber(record.payload[1] ?? 0);
}
