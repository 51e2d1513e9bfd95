import { standardSpec } from '../pki-spec.ts';
import type { KeyType } from '../spec.ts';
import { applyChanges, type SpecChange } from './change.ts';
import type {
  CatalogueEntry,
  Family,
  LadderRung,
  OpensslExpectation,
  VerifierExpectations,
  X509VErrName,
} from './types.ts';

/** Policy flags mirroring x509-limbo's OpenSSL harness: strict, TLS server purpose, auth level 2. */
export const SERVER_FLAGS = ['-x509_strict', '-purpose', 'sslserver', '-auth_level', '2'] as const;
/** The same for a client certificate checked by the broker. */
export const CLIENT_FLAGS = ['-x509_strict', '-purpose', 'sslclient', '-auth_level', '2'] as const;

/** Where every catalogue case starts: the safe default hierarchy, optionally reshaped. */
export interface Base {
  readonly dialledHost: string;
  readonly keyType?: KeyType;
  readonly intermediates?: number;
  /** Adds a client certificate issued by the root, trusted by the server (mutual TLS). */
  readonly client?: boolean;
}

export interface EntryDefinition {
  readonly id: `${Family}::${string}`;
  readonly title: string;
  readonly kind?: 'defect' | 'control';
  /** Changes that shape the twin from the base (the twin still passes). */
  readonly twin?: readonly SpecChange[];
  /** The one change under test, applied to the twin. */
  readonly change: readonly SpecChange[];
  readonly expect: VerifierExpectations;
  readonly keyType?: KeyType;
  readonly intermediates?: number;
  readonly ladder?: LadderRung;
  readonly fullOnly?: boolean;
}

const CLIENT_CHANGES: readonly SpecChange[] = [
  { op: 'add', cert: { ref: 'client', role: 'client', issuer: 'root' } },
  { op: 'client', client: { cert: 'client', anchors: ['root'] } },
];

export function define(base: Base, def: EntryDefinition): CatalogueEntry {
  const family = def.id.slice(0, def.id.indexOf('::')) as Family;
  const start = standardSpec({
    name: `${def.id}~twin`,
    keyType: def.keyType ?? base.keyType ?? 'p256',
    dialledHost: base.dialledHost,
    intermediates: def.intermediates ?? base.intermediates ?? 1,
  });
  const twin = applyChanges(start, [...(base.client ? CLIENT_CHANGES : []), ...(def.twin ?? [])]);
  const spec = applyChanges({ ...twin, name: def.id }, def.change);
  return {
    id: def.id,
    family,
    title: def.title,
    kind: def.kind ?? 'defect',
    spec,
    twin,
    change: def.change,
    expect: def.expect,
    ...(def.ladder ? { ladder: def.ladder } : {}),
    ...(def.fullOnly ? { fullOnly: true } : {}),
  };
}

/** OpenSSL rejects the server chain with `error` at `depth` under the default server flags. */
export function rejects(
  error: X509VErrName,
  depth: number,
  extraFlags: readonly string[] = [],
): VerifierExpectations {
  return {
    openssl: {
      target: 'server',
      flags: [...SERVER_FLAGS, ...extraFlags],
      verdict: { ok: false, error, depth },
    },
  };
}

/** OpenSSL accepts the server chain under the default server flags. */
export function accepts(extraFlags: readonly string[] = []): OpensslExpectation {
  return { target: 'server', flags: [...SERVER_FLAGS, ...extraFlags], verdict: { ok: true } };
}
