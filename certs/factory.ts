import { createHash, type webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { CertSummary, Hierarchy, HierarchySpec, KeyType } from './spec.ts';
import { subtle, toPem, x509 } from './x509.ts';

const KEY_ALGORITHMS: Record<KeyType, webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams> = {
  rsa2048: {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
  p256: { name: 'ECDSA', namedCurve: 'P-256' },
};

const DAY_MS = 86_400_000;

interface Issued {
  readonly cert: x509.X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
}

async function generateKeys(type: KeyType): Promise<webcrypto.CryptoKeyPair> {
  return (await subtle.generateKey(KEY_ALGORITHMS[type], true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
}

function signingAlgorithm(keys: webcrypto.CryptoKeyPair): webcrypto.Algorithm | webcrypto.EcdsaParams {
  const alg = keys.privateKey.algorithm;
  // ECDSA takes the hash per signature; an RSA key carries its hash from generation.
  return alg.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : alg;
}

/** Serial derived from the subject so the same spec gives the same serial on every run. */
function serialFor(subject: string): string {
  const digest = createHash('sha256').update(subject).digest();
  digest[0] = (digest[0] ?? 0) & 0x7f; // keep the INTEGER positive
  return digest.subarray(0, 16).toString('hex');
}

async function issueRoot(commonName: string, keyType: KeyType, now: Date): Promise<Issued> {
  const keys = await generateKeys(keyType);
  const subject = `CN=${commonName}, O=TrustLab`;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialFor(subject),
    subject,
    issuer: subject,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 365 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: signingAlgorithm(keys),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function issueServerLeaf(spec: HierarchySpec, issuer: Issued, now: Date): Promise<Issued> {
  const keys = await generateKeys(spec.keyType);
  const subject = `CN=${spec.dialledHost}, O=TrustLab ${spec.name}`;
  const sanType = isIP(spec.dialledHost) ? 'ip' : 'dns';
  const rsa = keys.privateKey.algorithm.name !== 'ECDSA';
  const usage = x509.KeyUsageFlags.digitalSignature | (rsa ? x509.KeyUsageFlags.keyEncipherment : 0);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialFor(subject),
    subject,
    issuer: issuer.cert.subject,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 90 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(issuer.keys),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usage, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([{ type: sanType, value: spec.dialledHost }], false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.cert, false),
    ],
  });
  return { cert, keys };
}

export function summarize(pem: string): CertSummary {
  const cert = new X509Certificate(pem);
  return {
    subject: cert.subject.replaceAll('\n', ', '),
    issuer: cert.issuer.replaceAll('\n', ', '),
    serial: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    sha256: cert.fingerprint256,
  };
}

/** Builds the hierarchy a spec describes: real keys, real signatures. */
export async function buildHierarchy(spec: HierarchySpec, now = new Date()): Promise<Hierarchy> {
  const root = await issueRoot(`TrustLab Root ${spec.name}`, spec.keyType, now);
  const leaf = await issueServerLeaf(spec, root, now);
  const issuingRootPem = toPem(root.cert.rawData, 'CERTIFICATE');
  const anchorsPem =
    spec.anchor === 'issuing-root'
      ? issuingRootPem
      : toPem(
          (await issueRoot(`TrustLab Unrelated Root ${spec.name}`, spec.keyType, now)).cert.rawData,
          'CERTIFICATE',
        );
  const servedChainPem = toPem(leaf.cert.rawData, 'CERTIFICATE');
  const serverKeyPem = toPem(await subtle.exportKey('pkcs8', leaf.keys.privateKey), 'PRIVATE KEY');
  return {
    spec,
    anchorsPem,
    servedChainPem,
    serverKeyPem,
    issuingRootPem,
    manifest: { anchors: [summarize(anchorsPem)], served: [summarize(servedChainPem)] },
  };
}
