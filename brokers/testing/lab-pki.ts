import type { webcrypto } from 'node:crypto';
import { subtle, toPem, x509 } from '../../certs/x509.ts';

/** Test fixture: the certificates the endpoint tests need, all P-256 (fast to generate). */
export interface LabPki {
  readonly rootPem: string;
  readonly intermediatePem: string;
  readonly leafPem: string;
  readonly leafKeyPem: string;
  /** A root that signed nothing here: a client trusting only it must reject the chain. */
  readonly unrelatedRootPem: string;
  /** Leaf for `default.test`, served to clients with the wrong SNI in SNI-routing mode. */
  readonly defaultLeafPem: string;
  readonly defaultKeyPem: string;
  readonly clientCaPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** A client certificate from a CA the endpoint does not trust. */
  readonly strangerCertPem: string;
  readonly strangerKeyPem: string;
}

const DAY = 86_400_000;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

type Keys = webcrypto.CryptoKeyPair;
interface Issued {
  readonly cert: x509.X509Certificate;
  readonly keys: Keys;
}

let serial = 1;

async function keys(): Promise<Keys> {
  return (await subtle.generateKey(EC, true, ['sign', 'verify'])) as Keys;
}

async function issue(
  subject: string,
  issuer: Issued | null,
  kind: 'ca' | 'server' | 'client',
  sans: x509.JsonGeneralNames = [],
): Promise<Issued> {
  const k = await keys();
  const now = Date.now();
  const extensions: x509.Extension[] = [await x509.SubjectKeyIdentifierExtension.create(k.publicKey)];
  if (kind === 'ca') {
    extensions.push(new x509.BasicConstraintsExtension(true, undefined, true));
    extensions.push(
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    );
  } else {
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
    const usage = kind === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth;
    extensions.push(new x509.ExtendedKeyUsageExtension([usage]));
    if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  }
  if (issuer) {
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(4, '0'),
    subject,
    issuer: issuer ? issuer.cert.subject : subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 30 * DAY),
    publicKey: k.publicKey,
    signingKey: issuer ? issuer.keys.privateKey : k.privateKey,
    signingAlgorithm: SIGN,
    extensions,
  });
  return { cert, keys: k };
}

const pem = (i: Issued) => toPem(i.cert.rawData, 'CERTIFICATE');
const keyPem = async (i: Issued) => toPem(await subtle.exportKey('pkcs8', i.keys.privateKey), 'PRIVATE KEY');

/** root → intermediate → leaf (broker.test, 127.0.0.1), plus the odd ones the tests need. */
export async function buildLabPki(): Promise<LabPki> {
  const root = await issue('CN=Lab Root, O=TrustLab Test', null, 'ca');
  const intermediate = await issue('CN=Lab Intermediate, O=TrustLab Test', root, 'ca');
  const leaf = await issue('CN=broker.test, O=TrustLab Test', intermediate, 'server', [
    { type: 'dns', value: 'broker.test' },
    { type: 'ip', value: '127.0.0.1' },
  ]);
  const unrelated = await issue('CN=Unrelated Root, O=TrustLab Test', null, 'ca');
  const defaultLeaf = await issue('CN=default.test, O=TrustLab Test', root, 'server', [
    { type: 'dns', value: 'default.test' },
  ]);
  const clientCa = await issue('CN=Lab Client CA, O=TrustLab Test', null, 'ca');
  const client = await issue('CN=modem-client-001, O=TrustLab Test', clientCa, 'client');
  const strangerCa = await issue('CN=Stranger CA, O=TrustLab Test', null, 'ca');
  const stranger = await issue('CN=stranger-client, O=TrustLab Test', strangerCa, 'client');
  return {
    rootPem: pem(root),
    intermediatePem: pem(intermediate),
    leafPem: pem(leaf),
    leafKeyPem: await keyPem(leaf),
    unrelatedRootPem: pem(unrelated),
    defaultLeafPem: pem(defaultLeaf),
    defaultKeyPem: await keyPem(defaultLeaf),
    clientCaPem: pem(clientCa),
    clientCertPem: pem(client),
    clientKeyPem: await keyPem(client),
    strangerCertPem: pem(stranger),
    strangerKeyPem: await keyPem(stranger),
  };
}
