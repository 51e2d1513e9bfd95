import { pemCertificates } from '../../../certs/pem.ts';
import { x509 } from '../../../certs/x509.ts';

/**
 * Extensions mbedTLS 2.28 knows how to read (its x509 extension table): a critical extension
 * outside this set makes it refuse to load the certificate at all.
 */
const LOADABLE_CRITICAL = new Set([
  '2.5.29.19', // basicConstraints
  '2.5.29.15', // keyUsage
  '2.5.29.37', // extendedKeyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.32', // certificatePolicies
  '2.16.840.1.113730.1.1', // Netscape certificate type
]);

/**
 * Why a stack like mbedTLS 2.28 would refuse to load this CA bundle (a certificate that does not
 * parse, or carries a critical extension it cannot read), or null when every certificate loads.
 */
export function anchorLoadError(pem: string): string | null {
  const blocks = pemCertificates(pem);
  if (blocks.length === 0) return 'no certificate in the file';
  for (const [i, block] of blocks.entries()) {
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(block);
    } catch (err) {
      return `certificate ${i + 1} does not parse: ${(err as Error).message}`;
    }
    const unknown = cert.extensions.find((e) => e.critical && !LOADABLE_CRITICAL.has(e.type));
    if (unknown) return `certificate ${i + 1} has an unsupported critical extension ${unknown.type}`;
  }
  return null;
}
