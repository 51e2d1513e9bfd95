import { createHash, sign } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn1X509 from '@peculiar/asn1-x509';
import { defaultHash, isRsa, type KeyMaterial } from './keys.ts';
import type { CertRole, CertSpec, HashName, KeyUsageName, PkiSpec } from './pki-spec.ts';
import { DEFAULT_VALIDITY, sanFor } from './pki-spec.ts';
import type { CertSummary, KeyType } from './spec.ts';
import { toPem, type x509 } from './x509.ts';

const DAY_MS = 86_400_000;

/** A private OID under the UUID arc (X.667), so no verifier can know it. */
export const UNKNOWN_CRITICAL_OID = '2.25.329800735698586629295641978511506172918';
/**
 * Filler for size ladders: the non-critical Netscape comment (an IA5String), which every stack
 * parses and ignores. A private 2.25 UUID arc would not do: GnuTLS cannot decode an arc that wide
 * and refuses the whole certificate as a DER error.
 */
export const FILLER_OID = '2.16.840.1.113730.1.13';

/** A certificate as issued, with the key it certifies. */
export interface IssuedCert {
  readonly spec: CertSpec;
  readonly der: Uint8Array;
  readonly pem: string;
  readonly key: KeyMaterial;
  /** The subject as data, reused verbatim as the issuer of what this certificate signs. */
  readonly subjectName: x509.JsonName;
  /** Manifest line for this certificate, from what was issued (no re-parse). */
  readonly summary: CertSummary;
}

/** `O=TrustLab, OU=…, CN=…`, the form Node's X509Certificate.subject gives with ', ' joins. */
function nameText(name: x509.JsonName): string {
  return name
    .flatMap((rdn) => Object.entries(rdn).map(([type, values]) => `${type}=${values.join('+')}`))
    .join(', ');
}

function fingerprint256(der: Uint8Array): string {
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
  return hex.replace(/(..)(?!$)/g, '$1:');
}

const KEY_USAGE_FLAGS: Record<KeyUsageName, asn1X509.KeyUsageFlags> = {
  digitalSignature: asn1X509.KeyUsageFlags.digitalSignature,
  nonRepudiation: asn1X509.KeyUsageFlags.nonRepudiation,
  keyEncipherment: asn1X509.KeyUsageFlags.keyEncipherment,
  dataEncipherment: asn1X509.KeyUsageFlags.dataEncipherment,
  keyAgreement: asn1X509.KeyUsageFlags.keyAgreement,
  keyCertSign: asn1X509.KeyUsageFlags.keyCertSign,
  cRLSign: asn1X509.KeyUsageFlags.cRLSign,
};

const EKU_OIDS = {
  serverAuth: asn1X509.id_kp_serverAuth,
  clientAuth: asn1X509.id_kp_clientAuth,
} as const;

const RSA_SIGNATURE_OIDS: Record<HashName, string> = {
  MD5: '1.2.840.113549.1.1.4',
  'SHA-1': '1.2.840.113549.1.1.5',
  'SHA-256': '1.2.840.113549.1.1.11',
  'SHA-384': '1.2.840.113549.1.1.12',
  'SHA-512': '1.2.840.113549.1.1.13',
};

const ECDSA_SIGNATURE_OIDS: Record<Exclude<HashName, 'MD5'>, string> = {
  'SHA-1': '1.2.840.10045.4.1',
  'SHA-256': '1.2.840.10045.4.3.2',
  'SHA-384': '1.2.840.10045.4.3.3',
  'SHA-512': '1.2.840.10045.4.3.4',
};

const NODE_HASH: Record<HashName, string> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

const ED25519_OID = '1.3.101.112';

const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;

function defaultCommonName(cert: CertSpec): string {
  if (cert.role === 'leaf') return 'TrustLab Server';
  if (cert.role === 'client') return 'TrustLab Device';
  if (cert.role === 'root') return cert.ref === 'root' ? 'TrustLab Root' : `TrustLab Root ${cert.ref}`;
  return `TrustLab Intermediate ${cert.ref}`;
}

function defaultKeyUsage(role: CertRole, keyType: KeyType): KeyUsageName[] {
  if (role === 'root' || role === 'intermediate') return ['keyCertSign', 'cRLSign'];
  // RSA key exchange (TLS_RSA_*) needs keyEncipherment; ECDSA keys only ever sign.
  return isRsa(keyType) ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
}

function extension(extnID: string, critical: boolean, value: unknown): asn1X509.Extension {
  return new asn1X509.Extension({
    extnID,
    critical,
    extnValue: new OctetString(value instanceof ArrayBuffer ? value : AsnConvert.serialize(value)),
  });
}

/** DER IA5String (tag 22) of ASCII text. */
function ia5String(text: string): ArrayBuffer {
  const der = derTlv(0x16, Buffer.from(text, 'ascii'));
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

function nameConstraintsExtension(nc: NonNullable<CertSpec['nameConstraints']>): asn1X509.Extension {
  const subtrees = (names: readonly string[] | undefined) =>
    names && names.length > 0
      ? new asn1X509.GeneralSubtrees(
          names.map(
            (dns) => new asn1X509.GeneralSubtree({ base: new asn1X509.GeneralName({ dNSName: dns }) }),
          ),
        )
      : undefined;
  const value = new asn1X509.NameConstraints({
    permittedSubtrees: subtrees(nc.permittedDns),
    excludedSubtrees: subtrees(nc.excludedDns),
  });
  // RFC 5280 §4.2.1.10: conforming CAs MUST mark name constraints critical.
  return extension(asn1X509.id_ce_nameConstraints, true, value);
}

function extensionsFor(
  cert: CertSpec,
  ownKey: KeyMaterial,
  issuerKey: KeyMaterial,
  dialledHost: string,
  filler: number | null,
): asn1X509.Extension[] {
  const ca = cert.role === 'root' || cert.role === 'intermediate';
  const selfSigned = cert.issuer === cert.ref;
  const ext: asn1X509.Extension[] = [];
  const bc = cert.basicConstraints === undefined ? { ca, critical: true } : cert.basicConstraints;
  if (bc) {
    const value = new asn1X509.BasicConstraints({ cA: bc.ca });
    if ('pathLength' in bc && bc.pathLength !== undefined) value.pathLenConstraint = bc.pathLength;
    ext.push(extension(asn1X509.id_ce_basicConstraints, bc.critical, value));
  }
  const ku =
    cert.keyUsage === undefined
      ? { usages: defaultKeyUsage(cert.role, ownKey.keyType), critical: true }
      : cert.keyUsage;
  if (ku) {
    const flags = ku.usages.reduce((all, name) => all | KEY_USAGE_FLAGS[name], 0);
    ext.push(extension(asn1X509.id_ce_keyUsage, ku.critical, new asn1X509.KeyUsage(flags)));
  }
  const eku =
    cert.extendedKeyUsage === undefined
      ? { leaf: ['serverAuth'] as const, client: ['clientAuth'] as const }[cert.role as 'leaf' | 'client']
      : cert.extendedKeyUsage;
  if (eku) {
    const value = new asn1X509.ExtendedKeyUsage(eku.map((u) => EKU_OIDS[u]));
    ext.push(extension(asn1X509.id_ce_extKeyUsage, false, value));
  }
  const san =
    cert.subjectAltNames === undefined
      ? cert.role === 'leaf'
        ? [sanFor(dialledHost)]
        : null
      : cert.subjectAltNames;
  if (san) {
    const names = san.map((n) =>
      n.type === 'dns'
        ? new asn1X509.GeneralName({ dNSName: n.value })
        : new asn1X509.GeneralName({ iPAddress: n.value }),
    );
    ext.push(extension(asn1X509.id_ce_subjectAltName, false, new asn1X509.SubjectAlternativeName(names)));
  }
  if (cert.subjectKeyIdentifier ?? true) {
    ext.push(
      extension(
        asn1X509.id_ce_subjectKeyIdentifier,
        false,
        new asn1X509.SubjectKeyIdentifier(Buffer.from(ownKey.keyId, 'hex')),
      ),
    );
  }
  // The key identifier of the issuer's key, the same value its SKI carries.
  if (cert.authorityKeyIdentifier ?? !selfSigned) {
    const value = new asn1X509.AuthorityKeyIdentifier({
      keyIdentifier: new asn1X509.KeyIdentifier(Buffer.from(issuerKey.keyId, 'hex')),
    });
    ext.push(extension(asn1X509.id_ce_authorityKeyIdentifier, false, value));
  }
  if (cert.nameConstraints) ext.push(nameConstraintsExtension(cert.nameConstraints));
  if (cert.unknownCriticalExtension) ext.push(extension(UNKNOWN_CRITICAL_OID, true, DER_NULL));
  if (filler !== null) ext.push(extension(FILLER_OID, false, ia5String('x'.repeat(filler))));
  return ext;
}

/** Serial from the hierarchy name, ref and both names: stable per spec, unique per certificate. */
export function serialFor(parts: readonly string[]): string {
  const digest = createHash('sha256').update(parts.join('\0')).digest().subarray(0, 16);
  // Positive and without a leading zero octet, so the INTEGER is DER-minimal.
  digest[0] = ((digest[0] ?? 0) & 0x7f) | 0x40;
  return digest.toString('hex');
}

function signatureAlgorithm(issuerKeyType: KeyType, hash: HashName): asn1X509.AlgorithmIdentifier {
  if (isRsa(issuerKeyType)) {
    return new asn1X509.AlgorithmIdentifier({ algorithm: RSA_SIGNATURE_OIDS[hash], parameters: DER_NULL });
  }
  // RFC 8410 §3: Ed25519 signs the message itself; the identifier has no hash and no parameters.
  if (issuerKeyType === 'ed25519') return new asn1X509.AlgorithmIdentifier({ algorithm: ED25519_OID });
  if (hash === 'MD5') throw new Error('ECDSA with MD5 has no algorithm identifier; use an RSA issuer');
  return new asn1X509.AlgorithmIdentifier({ algorithm: ECDSA_SIGNATURE_OIDS[hash] });
}

export interface IssueInput {
  readonly spec: PkiSpec;
  readonly cert: CertSpec;
  readonly ownKey: KeyMaterial;
  /** The issuing certificate; undefined for a self-signed one. */
  readonly issuer: IssuedCert | undefined;
  readonly clock: Date;
}

/** One DER TLV with a definite length. */
function derTlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length =
    n < 0x80
      ? Buffer.of(n)
      : n < 0x100
        ? Buffer.of(0x81, n)
        : n < 0x10000
          ? Buffer.of(0x82, n >> 8, n & 0xff)
          : Buffer.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
  return Buffer.concat([Buffer.of(tag), length, content]);
}

function rdnSequence(name: x509.JsonName): asn1X509.Name {
  // UTF8String throughout (RFC 5280 §4.1.2.4); issuer and subject come from the same data, so
  // an issuer name is byte-identical to its CA's subject.
  return new asn1X509.Name(
    name.flatMap((rdn) =>
      Object.entries(rdn).map(
        ([type, values]) =>
          new asn1X509.RelativeDistinguishedName(
            values.map(
              (value) =>
                new asn1X509.AttributeTypeAndValue({
                  type: ATTRIBUTE_OIDS[type as keyof typeof ATTRIBUTE_OIDS],
                  value: new asn1X509.AttributeValue({ utf8String: value }),
                }),
            ),
          ),
      ),
    ),
  );
}

const ATTRIBUTE_OIDS = { O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' } as const;

/**
 * Issues one certificate exactly as its spec says, defaults filled in per role. The TBS is
 * written with @peculiar/asn1-x509 (the schema layer under @peculiar/x509) and signed with
 * Node's crypto: every hash including MD5 and SHA-1, v1 and v3 alike, without the generator's
 * re-parse of each certificate. A certificate with `padToBytes` is reissued with a filler
 * extension until its DER is exactly that long (an ECDSA signature's length varies by a byte or two).
 */
export function issueCertificate(input: IssueInput): IssuedCert {
  const target = input.cert.padToBytes;
  if (target === undefined) return issueWith(input, null);
  let filler = 0;
  for (let attempt = 0; attempt < 32; attempt++) {
    const issued = issueWith(input, filler);
    const short = target - issued.der.length;
    if (short === 0) return issued;
    if (attempt === 0 && short < 0)
      throw new Error(
        `${input.cert.ref}: padToBytes ${target} is below the certificate's own size (${issued.der.length} bytes with an empty filler)`,
      );
    filler = Math.max(0, filler + short);
  }
  throw new Error(`${input.cert.ref}: could not make the certificate exactly ${target} bytes`);
}

function issueWith(input: IssueInput, filler: number | null): IssuedCert {
  const { spec, cert, ownKey, issuer, clock } = input;
  const issuerKey = issuer?.key ?? ownKey;
  const validity = cert.validity ?? DEFAULT_VALIDITY[cert.role];
  const subjectName: x509.JsonName = [
    { O: ['TrustLab'] },
    { OU: [spec.name] },
    { CN: [cert.commonName ?? defaultCommonName(cert)] },
  ];
  const issuerName = issuer?.subjectName ?? subjectName;
  const hash = cert.hash ?? defaultHash(issuerKey.keyType);
  const serial = serialFor([spec.name, cert.ref, JSON.stringify(subjectName), JSON.stringify(issuerName)]);
  const notBefore = new Date(clock.getTime() + validity.notBeforeDays * DAY_MS);
  const notAfter = new Date(clock.getTime() + validity.notAfterDays * DAY_MS);
  const version = cert.version ?? 3;
  const algorithm = signatureAlgorithm(issuerKey.keyType, hash);
  const tbs = new asn1X509.TBSCertificate({
    version: version === 1 ? asn1X509.Version.v1 : asn1X509.Version.v3,
    serialNumber: new Uint8Array(Buffer.from(serial, 'hex')).buffer,
    signature: algorithm,
    issuer: rdnSequence(issuerName),
    validity: new asn1X509.Validity({ notBefore, notAfter }),
    subject: rdnSequence(subjectName),
    subjectPublicKeyInfo: ownKey.spki,
  });
  // A v1 certificate has no extensions field at all (not an empty one).
  if (version === 3)
    tbs.extensions = new asn1X509.Extensions(
      extensionsFor(cert, ownKey, issuerKey, spec.dialledHost, filler),
    );
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const digest = issuerKey.keyType === 'ed25519' ? null : NODE_HASH[hash];
  const signature = sign(digest, tbsDer, { key: issuerKey.privateKey, dsaEncoding: 'der' });
  // Certificate ::= SEQUENCE { tbs, algorithm, BIT STRING signature }, wrapped by hand: letting
  // the schema serialize the whole certificate would encode the TBS a second time.
  const bitString = derTlv(0x03, Buffer.concat([Buffer.of(0), signature]));
  let der = new Uint8Array(
    derTlv(0x30, Buffer.concat([tbsDer, Buffer.from(AsnConvert.serialize(algorithm)), bitString])),
  );
  if (cert.corruptSignature) {
    // The last octet lies inside the signature BIT STRING for both RSA and ECDSA (the s INTEGER).
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
  }
  const pem = toPem(der, 'CERTIFICATE');
  const summary: CertSummary = {
    subject: nameText(subjectName),
    issuer: nameText(issuerName),
    serial: serial.toUpperCase(),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    sha256: fingerprint256(der),
  };
  der = der.slice();
  return { spec: cert, der, pem, key: ownKey, subjectName, summary };
}
