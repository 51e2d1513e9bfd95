import type { KeyType } from '../spec.ts';
import { accepts, type Base, define, rejects } from './define.ts';
import { leafKeyRung } from './keys.ts';
import type { CatalogueEntry } from './types.ts';

const CHAIN_KEY_TYPES: readonly KeyType[] = ['rsa2048', 'rsa3072', 'rsa4096', 'p384'];

/** Signature hashes, key types and sizes, and signatures that do not verify. */
export function signatureEntries(base: Base): CatalogueEntry[] {
  return [
    define(base, {
      id: 'signatures::sha1-leaf',
      title: 'the leaf is signed with ECDSA-SHA1',
      change: [{ op: 'set', ref: 'leaf', fields: { hash: 'SHA-1' } }],
      expect: rejects('CA_MD_TOO_WEAK', 0),
    }),
    define(base, {
      id: 'signatures::sha1-intermediate',
      title: 'the intermediate is signed with ECDSA-SHA1',
      change: [{ op: 'set', ref: 'ica1', fields: { hash: 'SHA-1' } }],
      expect: rejects('CA_MD_TOO_WEAK', 1),
    }),
    define(base, {
      id: 'signatures::md5-leaf',
      title: 'the leaf is signed with RSA-MD5 (RSA-2048 hierarchy)',
      keyType: 'rsa2048',
      change: [{ op: 'set', ref: 'leaf', fields: { hash: 'MD5' } }],
      expect: rejects('CA_MD_TOO_WEAK', 0),
    }),
    define(base, {
      id: 'signatures::rsa1024-leaf',
      title: 'the leaf key is RSA-1024',
      change: [{ op: 'set', ref: 'leaf', fields: { keyType: 'rsa1024' } }],
      expect: rejects('EE_KEY_TOO_SMALL', 0),
      ladder: leafKeyRung('rsa1024'),
    }),
    define(base, {
      id: 'signatures::rsa1024-root',
      title: 'the root key is RSA-1024',
      change: [{ op: 'set', ref: 'root', fields: { keyType: 'rsa1024' } }],
      expect: rejects('CA_KEY_TOO_SMALL', 2),
    }),
    define(base, {
      id: 'signatures::corrupted-leaf-signature',
      title: 'one bit of the leaf signature flipped',
      change: [{ op: 'set', ref: 'leaf', fields: { corruptSignature: true } }],
      expect: rejects('CERT_SIGNATURE_FAILURE', 0),
    }),
    define(base, {
      id: 'signatures::corrupted-intermediate-signature',
      title: 'one bit of the intermediate signature flipped',
      change: [{ op: 'set', ref: 'ica1', fields: { corruptSignature: true } }],
      expect: rejects('CERT_SIGNATURE_FAILURE', 1),
    }),
    ...CHAIN_KEY_TYPES.map((keyType) =>
      define(base, {
        id: `signatures::${keyType}-chain`,
        title: `every key ${keyType.toUpperCase()} (control: the device supports the key type)`,
        kind: 'control',
        keyType,
        change: [],
        expect: { openssl: accepts() },
      }),
    ),
    ...(['SHA-384', 'SHA-512'] as const).map((hash) =>
      define(base, {
        id: `signatures::${hash.toLowerCase().replace('-', '')}-leaf`,
        title: `the leaf is signed with ECDSA-${hash.replace('-', '')} (control)`,
        kind: 'control',
        change: [{ op: 'set', ref: 'leaf', fields: { hash } }],
        expect: { openssl: accepts() },
      }),
    ),
  ];
}
