import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

/**
 * The x509-limbo testcase file as TrustLab reads it: upstream's own format, checked against
 * upstream's own schema (the pinned copy in third_party/x509-limbo), never a private variant.
 */

export type PeerKind = 'DNS' | 'IP' | 'RFC822';

export interface LimboPeerName {
  readonly kind: PeerKind;
  readonly value: string;
}

export interface LimboTestcase {
  readonly id: string;
  readonly conflicts_with?: readonly string[];
  readonly features?: readonly string[];
  readonly importance?: string;
  readonly description: string;
  readonly validation_kind: 'CLIENT' | 'SERVER';
  readonly trusted_certs: readonly string[];
  readonly untrusted_intermediates: readonly string[];
  readonly peer_certificate: string;
  readonly peer_certificate_key?: string | null;
  readonly validation_time?: string | null;
  readonly signature_algorithms: readonly string[] | null;
  readonly key_usage: readonly string[] | null;
  readonly extended_key_usage: readonly string[] | null;
  readonly expected_result: 'SUCCESS' | 'FAILURE';
  readonly expected_peer_name?: LimboPeerName | null;
  readonly expected_peer_names: readonly LimboPeerName[];
  readonly max_chain_depth?: number | null;
  readonly crls?: readonly string[];
}

export interface LimboSuite {
  readonly version: number;
  readonly testcases: readonly LimboTestcase[];
}

const PINNED_DIR = new URL('../../third_party/x509-limbo/', import.meta.url);

/** The suite that ships with TrustLab, and upstream's schema beside it. */
export const PINNED_LIMBO = fileURLToPath(new URL('limbo.json', PINNED_DIR));
export const LIMBO_SCHEMA = fileURLToPath(new URL('limbo-schema.json', PINNED_DIR));

/** Upstream revision of the pinned copy (third_party/x509-limbo/README.md says the same). */
export const PINNED_REVISION = '8a2e6f41023b1716dc16fe63335e4bb972e4c3f6';

let validator: ValidateFunction | null = null;

/** JSON Schema's `date-time` (RFC 3339, an offset or Z required): the one format upstream's schema uses. */
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;
const isRfc3339DateTime = (s: string) => RFC3339.test(s) && !Number.isNaN(Date.parse(s));

/**
 * Upstream's schema, compiled once: the file is a container of definitions, the suite is its
 * `Limbo` one. Not strict: its keywords are upstream's, not ours to police.
 */
function limboValidator(): ValidateFunction {
  const schema = JSON.parse(readFileSync(LIMBO_SCHEMA, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: false, formats: { 'date-time': isRfc3339DateTime } });
  validator ??= ajv.compile({ ...schema, $ref: '#/$defs/Limbo' });
  return validator;
}

export class LimboFileError extends Error {}

/** The first way a value misses upstream's schema, naming the case and the field; null when it meets it. */
export function limboProblem(value: unknown): string | null {
  const validate = limboValidator();
  if (validate(value)) return null;
  const error = validate.errors?.[0];
  if (!error) return 'does not meet the x509-limbo schema';
  const where = error.instancePath || '(top level)';
  const index = /^\/testcases\/(\d+)/.exec(where)?.[1];
  const cases = (value as { testcases?: { id?: unknown }[] } | null)?.testcases;
  const id = index !== undefined ? cases?.[Number(index)]?.id : undefined;
  return `${where}${typeof id === 'string' ? ` (case ${id})` : ''} ${error.message ?? 'is invalid'}`;
}

/**
 * Reads a limbo.json (the pinned copy by default) and checks it against upstream's schema; a
 * missing, non-JSON or malformed file is a `LimboFileError` naming the file and the first problem.
 */
export function loadLimboSuite(file: string = PINNED_LIMBO): LimboSuite {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new LimboFileError(
      `${file}: cannot read the limbo suite (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LimboFileError(`${file}: not JSON (${(error as Error).message})`);
  }
  const problem = limboProblem(value);
  if (problem) throw new LimboFileError(`${file}: not an x509-limbo suite: ${problem}`);
  const suite = value as LimboSuite;
  const seen = new Set<string>();
  for (const c of suite.testcases) {
    if (seen.has(c.id)) throw new LimboFileError(`${file}: case id ${c.id} appears twice`);
    seen.add(c.id);
  }
  return suite;
}

/** The namespace of a case id (`rfc5280::nc::foo` → `rfc5280`), as limbo's pages group them. */
export const namespaceOf = (id: string): string => id.split('::')[0] ?? id;
