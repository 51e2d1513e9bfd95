import { SERVER_HELLO_TAMPERS } from '../brokers/server-hello-tamper.ts';
import { LADDERS } from '../certs/catalogue/index.ts';
import { ANCHOR_FILE_FORMATS } from '../certs/pem.ts';
import { PROFILE_NAMES } from './profiles.ts';
import { FEATURES } from './scenario-model.ts';

/**
 * JSON Schema (2020-12) of the scenario model, written beside the TypeScript types in
 * scenario-model.ts (no schema generator is installed, and none is needed for one model). The test
 * beside it validates every scenario against it and checks that `scenarios.schema.json` is this
 * object, so the two cannot drift silently.
 */
const expectation = {
  type: 'object',
  additionalProperties: false,
  required: ['result'],
  properties: {
    result: { enum: ['accept', 'reject'] },
    because: { type: 'string', minLength: 1 },
  },
} as const;

const bit = { enum: [0, 1] } as const;

export const SCENARIO_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://trustlab.invalid/schemas/scenario.json',
  title: 'TrustLab conformance scenario',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'title', 'phase', 'kind', 'certs', 'twin', 'settings', 'server', 'expected', 'requires'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9-]+::[a-z0-9.~-]+$' },
    title: { type: 'string', minLength: 1 },
    phase: { enum: ['sanity', 'probe', 'catalogue'] },
    kind: { enum: ['defect', 'control'] },
    certs: {
      type: 'object',
      additionalProperties: false,
      required: ['entry', 'variant'],
      properties: {
        entry: { type: 'string', pattern: '^[a-z]+::[a-z0-9-]+$' },
        variant: { enum: ['spec', 'twin'] },
        issuer: { enum: ['lab-public-root'] },
      },
    },
    twin: { type: ['string', 'null'] },
    settings: {
      type: 'object',
      additionalProperties: false,
      required: [
        'seclevel',
        'sslversion',
        'sni',
        'ignorelocaltime',
        'ciphersuite',
        'ignoreinvalidcertsign',
        'ignoremulticertchainverify',
        'dial',
      ],
      properties: {
        seclevel: { enum: [0, 1, 2] },
        sslversion: { enum: [1, 2, 3, 4] },
        sni: bit,
        ignorelocaltime: bit,
        ciphersuite: { type: 'string', pattern: '^0X[0-9A-F]{4}$' },
        ignoreinvalidcertsign: bit,
        ignoremulticertchainverify: bit,
        dial: { enum: ['hostname', 'ip'] },
      },
    },
    server: {
      type: 'object',
      additionalProperties: false,
      properties: {
        minTlsVersion: { enum: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] },
        maxTlsVersion: { enum: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] },
        ciphers: { type: 'string' },
        clientAuth: { enum: ['requested', 'required'] },
        handshakeFragment: { enum: [512, 1024, 2048, 4096] },
        serverHelloTamper: { enum: [...SERVER_HELLO_TAMPERS] },
      },
    },
    expected: {
      type: 'object',
      additionalProperties: false,
      required: [...PROFILE_NAMES],
      properties: Object.fromEntries(PROFILE_NAMES.map((p) => [p, expectation])),
    },
    requires: { type: 'array', uniqueItems: true, items: { enum: [...FEATURES] } },
    ladder: {
      type: 'object',
      additionalProperties: false,
      required: ['ladder', 'rung', 'label'],
      properties: {
        ladder: { enum: Object.keys(LADDERS) },
        rung: { type: 'integer' },
        label: { type: 'string', minLength: 1 },
      },
    },
    fullOnly: { enum: [true] },
    anchorFile: { enum: [...ANCHOR_FILE_FORMATS] },
  },
} as const;

type Schema = Readonly<Record<string, unknown>>;

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * Validates a value against the subset of JSON Schema the scenario schema uses (type, enum,
 * required, properties, additionalProperties false, items, uniqueItems, pattern, minLength).
 * Returns every violation as `path: message`; an unknown keyword is an error, so the schema cannot
 * grow a rule this validator silently ignores.
 */
export function validateAgainst(schema: Schema, value: unknown, path = '$'): string[] {
  const known = new Set([
    '$schema',
    '$id',
    'title',
    'type',
    'enum',
    'required',
    'properties',
    'additionalProperties',
    'items',
    'uniqueItems',
    'pattern',
    'minLength',
  ]);
  const unknown = Object.keys(schema).filter((k) => !known.has(k));
  if (unknown.length > 0) return [`${path}: schema keyword(s) not supported: ${unknown.join(', ')}`];
  const errors: string[] = [];
  const types = schema.type === undefined ? null : ([] as string[]).concat(schema.type as string | string[]);
  const actual = typeOf(value);
  if (types && !types.includes(actual) && !(types.includes('integer') && Number.isInteger(value))) {
    return [`${path}: expected ${types.join(' or ')}, got ${actual}`];
  }
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) {
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern as string).test(value))
      errors.push(`${path}: "${value}" does not match ${schema.pattern}`);
    if (schema.minLength !== undefined && value.length < (schema.minLength as number))
      errors.push(`${path}: shorter than ${schema.minLength}`);
  }
  if (actual === 'object' && (schema.properties || schema.required)) {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) {
      if (!(key in obj)) errors.push(`${path}: missing ${key}`);
    }
    for (const [key, v] of Object.entries(obj)) {
      const sub = props[key];
      if (sub) errors.push(...validateAgainst(sub, v, `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected property ${key}`);
    }
  }
  if (Array.isArray(value)) {
    if (schema.items) {
      for (const [i, v] of value.entries())
        errors.push(...validateAgainst(schema.items as Schema, v, `${path}[${i}]`));
    }
    if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length)
      errors.push(`${path}: items are not unique`);
  }
  return errors;
}
