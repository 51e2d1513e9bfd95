import type { KeyType } from '../spec.ts';
import { accepts, type Base, define } from './define.ts';
import type { CatalogueEntry } from './types.ts';

/** The server key ladder, weakest to newest; RSA-1024 is the defect signatures::rsa1024-leaf. */
export const LEAF_KEY_LADDER: readonly KeyType[] = [
  'rsa1024',
  'rsa2048',
  'rsa3072',
  'rsa4096',
  'rsa8192',
  'p256',
  'p384',
  'p521',
  'ed25519',
];
/** The rung most stacks differ on (mbedTLS 2.28 has no EdDSA): the one the default matrix runs. */
const DEFAULT_RUNG: KeyType = 'ed25519';

const LABELS: Readonly<Record<KeyType, string>> = {
  rsa1024: 'RSA-1024',
  rsa2048: 'RSA-2048',
  rsa3072: 'RSA-3072',
  rsa4096: 'RSA-4096',
  rsa8192: 'RSA-8192',
  p256: 'ECDSA P-256',
  p384: 'ECDSA P-384',
  p521: 'ECDSA P-521',
  ed25519: 'Ed25519',
};

export const leafKeyRung = (keyType: KeyType) => ({
  ladder: 'leaf-key' as const,
  rung: LEAF_KEY_LADDER.indexOf(keyType) + 1,
  label: LABELS[keyType],
});

/** The server certificate's key, everything above it P-256: what the device's TLS stack can verify. */
export function keyEntries(base: Base): CatalogueEntry[] {
  return LEAF_KEY_LADDER.filter((k) => k !== 'rsa1024').map((keyType) =>
    define(base, {
      id: `keys::leaf-${keyType}`,
      title: `the server certificate's key is ${LABELS[keyType]} (issuers P-256)`,
      kind: 'control',
      change: [{ op: 'set', ref: 'leaf', fields: { keyType } }],
      expect: { openssl: accepts() },
      ladder: leafKeyRung(keyType),
      fullOnly: keyType !== DEFAULT_RUNG,
    }),
  );
}
