import { createHash, sign } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1X509 from '@peculiar/asn1-x509';
import { defaultHash, isRsa, type KeyMaterial } from './keys.ts';
import type { CertRole, CertSpec, HashName, KeyUsageName, PkiSpec } from './pki-spec.ts';
import { DEFAULT_VALIDITY, sanFor } from './pki-spec.ts';
import type { KeyType } from './spec.ts';
import { x509 } from './x509.ts';

const DAY_MS = 86_400_000;

/** A private OID under the UUID arc (X.667), so no verifier can know it. */
export const UNKNOWN_CRITICAL_OID = '2.25.329800735698586629295641978511506172918';

/** A certificate as issued, with the key it certifies. */
export interface IssuedCert {
  readonly spec: CertSpec;
  readonly der: Uint8Array;
  readonly pem: string;
  readonly key: KeyMaterial;
  /** The subject as data, reused verbatim as the issuer of what this certificate signs. */
  readonly subjectName: x509.JsonName;
}

const KEY_USAGE_FLAGS: Record<KeyUsageName, x509.KeyUsageFlags> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  nonRepudiation: x509.KeyUsageFlags.nonRepudiation,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  dataEncipherment: x509.KeyUsageFlags.dataEncipherment,
  keyAgreement: x509.KeyUsageFlags.keyAgreement,
  keyCertSign: x509.KeyUsageFlags.keyCertSign,
  cRLSign: x509.KeyUsageFlags.cRLSign,
};

const EKU_OIDS = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
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

function nameConstraintsExtension(nc: NonNullable<CertSpec['nameConstraints']>): x509.Extension {
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
  return new x509.Extension(asn1X509.id_ce_nameConstraints, true, AsnConvert.serialize(value));
}

async function extensionsFor(
  cert: CertSpec,
  ownKey: KeyMaterial,
  issuerKey: KeyMaterial,
  dialledHost: string,
): Promise<x509.Extension[]> {
  const ca = cert.role === 'root' || cert.role === 'intermediate';
  const selfSigned = cert.issuer === cert.ref;
  const ext: x509.Extension[] = [];
  const bc = cert.basicConstraints === undefined ? { ca, critical: true } : cert.basicConstraints;
  if (bc)
    ext.push(
      new x509.BasicConstraintsExtension(bc.ca, 'pathLength' in bc ? bc.pathLength : undefined, bc.critical),
    );
  const ku =
    cert.keyUsage === undefined
      ? { usages: defaultKeyUsage(cert.role, ownKey.keyType), critical: true }
      : cert.keyUsage;
  if (ku) {
    const flags = ku.usages.reduce((all, name) => all | KEY_USAGE_FLAGS[name], 0);
    ext.push(new x509.KeyUsagesExtension(flags, ku.critical));
  }
  const eku =
    cert.extendedKeyUsage === undefined
      ? { leaf: ['serverAuth'] as const, client: ['clientAuth'] as const }[cert.role as 'leaf' | 'client']
      : cert.extendedKeyUsage;
  if (eku)
    ext.push(
      new x509.ExtendedKeyUsageExtension(
        eku.map((u) => EKU_OIDS[u]),
        false,
      ),
    );
  const san =
    cert.subjectAltNames === undefined
      ? cert.role === 'leaf'
        ? [sanFor(dialledHost)]
        : null
      : cert.subjectAltNames;
  if (san)
    ext.push(
      new x509.SubjectAlternativeNameExtension(
        san.map((n) => ({ type: n.type, value: n.value })),
        false,
      ),
    );
  if (cert.subjectKeyIdentifier ?? true)
    ext.push(await x509.SubjectKeyIdentifierExtension.create(ownKey.webPublicKey));
  // The key identifier is the SHA-1 of the issuer's key, the same value its SKI carries.
  if (cert.authorityKeyIdentifier ?? !selfSigned) {
    ext.push(await x509.AuthorityKeyIdentifierExtension.create(issuerKey.webPublicKey));
  }
  if (cert.nameConstraints) ext.push(nameConstraintsExtension(cert.nameConstraints));
  if (cert.unknownCriticalExtension) {
    ext.push(new x509.Extension(UNKNOWN_CRITICAL_OID, true, DER_NULL));
  }
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
  if (hash === 'MD5') throw new Error('ECDSA with MD5 has no algorithm identifier; use an RSA issuer');
  return new asn1X509.AlgorithmIdentifier({ algorithm: ECDSA_SIGNATURE_OIDS[hash] });
}

/**
 * Re-encodes a generated certificate and signs its TBS again with Node's crypto, for what the
 * generator cannot write: version 1, and hashes outside WebCrypto (MD5) or not bound to the key.
 */
function resign(der: ArrayBuffer, version: 1 | 3, hash: HashName, issuerKey: KeyMaterial): Uint8Array {
  const asn = AsnConvert.parse(der, asn1X509.Certificate);
  const tbs = asn.tbsCertificate;
  if (version === 1) {
    tbs.version = asn1X509.Version.v1;
    // A v1 certificate has no extensions field at all (not an empty one).
    tbs.extensions = undefined;
  }
  const algorithm = signatureAlgorithm(issuerKey.keyType, hash);
  tbs.signature = algorithm;
  asn.signatureAlgorithm = algorithm;
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign(NODE_HASH[hash], tbsDer, { key: issuerKey.privateKey, dsaEncoding: 'der' });
  asn.signatureValue = new Uint8Array(signature).buffer;
  return new Uint8Array(AsnConvert.serialize(asn));
}

export interface IssueInput {
  readonly spec: PkiSpec;
  readonly cert: CertSpec;
  readonly ownKey: KeyMaterial;
  /** The issuing certificate; undefined for a self-signed one. */
  readonly issuer: IssuedCert | undefined;
  readonly clock: Date;
}

/** Issues one certificate exactly as its spec says, defaults filled in per role. */
export async function issueCertificate(input: IssueInput): Promise<IssuedCert> {
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
  const generated = await x509.X509CertificateGenerator.create({
    serialNumber: serialFor([spec.name, cert.ref, JSON.stringify(subjectName), JSON.stringify(issuerName)]),
    subject: subjectName,
    issuer: issuerName,
    notBefore: new Date(clock.getTime() + validity.notBeforeDays * DAY_MS),
    notAfter: new Date(clock.getTime() + validity.notAfterDays * DAY_MS),
    publicKey: ownKey.webPublicKey,
    signingKey: issuerKey.webPrivateKey,
    signingAlgorithm: isRsa(issuerKey.keyType)
      ? { name: 'RSASSA-PKCS1-v1_5' }
      : { name: 'ECDSA', hash: defaultHash(issuerKey.keyType) },
    extensions: await extensionsFor(cert, ownKey, issuerKey, spec.dialledHost),
  });
  const version = cert.version ?? 3;
  let der =
    version === 1 || hash !== defaultHash(issuerKey.keyType)
      ? resign(generated.rawData, version, hash, issuerKey)
      : new Uint8Array(generated.rawData);
  if (cert.corruptSignature) {
    der = der.slice();
    // The last octet lies inside the signature BIT STRING for both RSA and ECDSA (the s INTEGER).
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
  }
  const pem = `${x509.PemConverter.encode(der.slice().buffer, 'CERTIFICATE')}\n`;
  return { spec: cert, der, pem, key: ownKey, subjectName };
}
