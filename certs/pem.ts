/** Every certificate of a PEM bundle, in order, each as its own PEM block ending in a newline. */
export function pemCertificates(pem: string | null): string[] {
  const blocks = pem?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => `${b}\n`);
}
