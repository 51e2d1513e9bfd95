/** Every certificate of a PEM bundle, in order, each as its own PEM block ending in a newline. */
export function pemCertificates(pem: string | null): string[] {
  const blocks = pem?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => `${b}\n`);
}

/**
 * How the anchors file is written when a case varies it (the default is PEM with LF line ends):
 * CRLF line ends, a UTF-8 byte-order mark before the first line, or text after the last block.
 * RFC 7468 §2 lets a parser ignore text outside the boundaries and accept either line end.
 */
export const ANCHOR_FILE_FORMATS = ['pem-crlf', 'pem-bom', 'pem-trailing-bytes'] as const;
export type AnchorFileFormat = (typeof ANCHOR_FILE_FORMATS)[number];

/** The anchors file's text in `format`; the certificates in it are the same. */
export function anchorFileText(pem: string, format: AnchorFileFormat): string {
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
