// @peculiar/x509 v2 resolves its DI container through the Reflect metadata API, so the polyfill
// must load before the library itself.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node's webcrypto is a full WebCrypto implementation; only the DOM type names differ.
type WebCrypto = Parameters<typeof x509.cryptoProvider.set>[1]; // the DOM `Crypto` type
x509.cryptoProvider.set(webcrypto as unknown as WebCrypto);

export { x509 };
export const subtle = webcrypto.subtle;

/** PEM with the trailing newline that concatenated bundles need (PemConverter omits it). */
export function toPem(der: ArrayBuffer | Uint8Array, label: 'CERTIFICATE' | 'PRIVATE KEY'): string {
  const bytes = der instanceof Uint8Array ? der.slice().buffer : der;
  return `${x509.PemConverter.encode(bytes, label)}\n`;
}
