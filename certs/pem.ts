import { X509Certificate } from 'node:crypto';

/** Every certificate of a PEM bundle, in order, each as its own PEM block ending in a newline. */
export function pemCertificates(pem: string | null): string[] {
  const blocks = pem?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => `${b}\n`);
}

/**
 * How the anchors file is written when a case varies it (the default is PEM with LF line ends):
 * CRLF line ends, a UTF-8 byte-order mark before the first line, text after the last block, or the
 * certificate's DER bytes (binary, one certificate). RFC 7468 §2 lets a parser ignore text outside
 * the boundaries and accept either line end.
 */
export const ANCHOR_FILE_FORMATS = ['pem-crlf', 'pem-bom', 'pem-trailing-bytes', 'der'] as const;
export type AnchorFileFormat = (typeof ANCHOR_FILE_FORMATS)[number];
export type PemFileFormat = Exclude<AnchorFileFormat, 'der'>;

/** The DER bytes of the one certificate of a PEM file (a DER file holds exactly one). */
export function derOfSingleCertificate(pem: string): Buffer {
  const blocks = pemCertificates(pem);
  if (blocks.length !== 1) throw new Error(`a DER file holds one certificate; this PEM has ${blocks.length}`);
  return new X509Certificate(blocks[0] as string).raw;
}

/** The anchors file's bytes in `format`; the certificates in it are the same. */
export function anchorFileBytes(pem: string, format: AnchorFileFormat): Buffer {
  return format === 'der' ? derOfSingleCertificate(pem) : Buffer.from(anchorFileText(pem, format), 'utf8');
}

/**
 * A stored anchors file as a TLS stack's loader reads it (mbedTLS x509_crt_parse): PEM text as it
 * is, and a file without a PEM boundary that is one DER certificate as that certificate's PEM.
 * Anything else comes back as its bytes in latin1, for the loader to refuse.
 */
export function anchorFileAsPem(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) return text;
  try {
    return new X509Certificate(bytes).toString();
  } catch {
    return text;
  }
}

/** The anchors file's text in `format`; the certificates in it are the same. */
export function anchorFileText(pem: string, format: PemFileFormat): string {
  const lf = pem.replace(/\r\n/g, '\n');
  switch (format) {
    case 'pem-crlf':
      return lf.replace(/\n/g, '\r\n');
    case 'pem-bom':
      return `\uFEFF${lf}`;
    case 'pem-trailing-bytes':
      return `${lf}TrustLab: trailing bytes after the last certificate, not PEM\n`;
  }
}
