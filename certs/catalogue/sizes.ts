import type { CertSpec } from '../pki-spec.ts';
import { intermediates } from './chains.ts';
import type { SpecChange } from './change.ts';
import { accepts, type Base, define } from './define.ts';
import type { CatalogueEntry } from './types.ts';

const kB = (bytes: number) => `${bytes / 1024} kB`;

/** Served-chain rungs and the intermediates each is built with (a longer chain, not one fat leaf). */
const SERVED_CHAIN: readonly (readonly [bytes: number, intermediates: number])[] = [
  [2048, 1],
  [4096, 2],
  [6144, 3],
  [8192, 4],
  [12288, 6],
  [16384, 8],
];
/** Past the nRF9160's reported 4 kB limit: the rung the default matrix runs. */
const SERVED_CHAIN_DEFAULT = 6144;
const LEAF_BYTES: readonly number[] = [2048, 4096, 8192, 16384];
const ANCHOR_COUNTS: readonly number[] = [2, 10, 50];

/** Every served certificate padded so the DER chain is exactly `bytes` (the leaf takes the remainder). */
function paddedChain(bytes: number, count: number): SpecChange[] {
  const served = count + 1;
  const each = Math.floor(bytes / served);
  const changes: SpecChange[] = count > 1 ? intermediates(count) : [];
  changes.push({ op: 'set', ref: 'leaf', fields: { padToBytes: bytes - each * count } });
  for (let i = 1; i <= count; i++) changes.push({ op: 'set', ref: `ica${i}`, fields: { padToBytes: each } });
  return changes;
}

/** `count` roots in the uploaded file, the issuing root last (a device that reads one certificate fails). */
function anchorFile(count: number): SpecChange[] {
  const extras: CertSpec[] = Array.from({ length: count - 1 }, (_, i) => ({
    ref: `extra-root-${i + 1}`,
    role: 'root',
    issuer: `extra-root-${i + 1}`,
    keySlot: 'extra-root',
    commonName: `TrustLab Extra Root ${i + 1}`,
  }));
  return [
    ...extras.map((cert): SpecChange => ({ op: 'add', cert })),
    { op: 'anchors', refs: [...extras.map((c) => c.ref), 'root'] },
  ];
}

/** Size ladders: every chain valid, so a refusal is the size's doing. */
export function sizeEntries(base: Base): CatalogueEntry[] {
  return [
    ...SERVED_CHAIN.map(([bytes, count]) =>
      define(base, {
        id: `sizes::served-chain-${bytes / 1024}k`,
        title: `the served chain is ${bytes} DER bytes (${kB(bytes)}: leaf + ${count} padded intermediates)`,
        kind: 'control',
        change: paddedChain(bytes, count),
        expect: { openssl: accepts() },
        ladder: { ladder: 'served-chain-bytes', rung: bytes, label: kB(bytes) },
        fullOnly: bytes !== SERVED_CHAIN_DEFAULT,
      }),
    ),
    ...LEAF_BYTES.map((bytes) =>
      define(base, {
        id: `sizes::leaf-${bytes / 1024}k`,
        title: `the server certificate alone is ${bytes} DER bytes (${kB(bytes)}, a padded leaf)`,
        kind: 'control',
        change: [{ op: 'set', ref: 'leaf', fields: { padToBytes: bytes } }],
        expect: { openssl: accepts() },
        ladder: { ladder: 'leaf-bytes', rung: bytes, label: kB(bytes) },
        fullOnly: true,
      }),
    ),
    ...ANCHOR_COUNTS.map((count) =>
      define(base, {
        id: `sizes::anchors-${count}`,
        title: `${count} roots in the uploaded CA file, the issuing root last`,
        kind: 'control',
        change: anchorFile(count),
        expect: { openssl: accepts() },
        ladder: { ladder: 'anchor-count', rung: count, label: `${count} certificates` },
        fullOnly: true,
      }),
    ),
  ];
}
