import type { EngineChoice } from './tls/engines.ts';

/**
 * How a virtual modem decides whom to trust. Data, not code: the dialect turns its AT settings and
 * these fields into one TLS handshake request (see quectel/tls-request.ts, nrf91/tls-request.ts).
 */
export interface TrustPersonality {
  readonly name: string;
  readonly description: string;
  /** The TLS stack: `auto` is mbedTLS 2.28 (what the modems run) when it builds here, else Node tls. */
  readonly engine: EngineChoice;
  /**
   * Where trust anchors come from: the CA the host uploaded, the firmware's built-in store
   * (`builtinAnchorsPem`, configurable so a lab-made "public" root can stand in), or both.
   */
  readonly anchors: 'uploaded' | 'builtin' | 'uploaded+builtin';
  /** PEM bundle of the built-in store; empty unless configured. */
  readonly builtinAnchorsPem?: string;
  /** `seclevel`: the AT setting decides; `never`: the certificate is not verified whatever is set. */
  readonly verification: 'seclevel' | 'never';
  /**
   * SNI: `knob` follows the dialect's own setting (Quectel "sni"); `hostname` is sent whenever the
   * device has a hostname to verify (stock mbedTLS, nRF9160 mfw ≥ 1.2.1); `never` sends none.
   */
  readonly sni: 'knob' | 'hostname' | 'never';
  /**
   * Name check: `dialled` always checks the dialled name; `hostname` only when a hostname is set
   * (stock mbedTLS 2.28 before 2.28.10 checks no name otherwise; on Quectel the hostname is set
   * with SNI on; on nRF91 by TLS_HOSTNAME); `none` never checks.
   */
  readonly nameCheck: 'dialled' | 'hostname' | 'none';
  /**
   * `rfc6125`: names as the RFCs say (no SNI for an IP literal, RFC 6066; an IP literal matches an
   * iPAddress SAN, RFC 6125). `stack`: whatever the TLS stack does (stock mbedTLS 2.28 sends an IP
   * literal as SNI and cannot match it).
   */
  readonly nameRules: 'rfc6125' | 'stack';
  /** The +QMTOPEN result a failed TLS handshake reports (vendors differ: -1, 4 and 5 are all seen). */
  readonly tlsFailureOpenCode: number;
  /**
   * When the stack loads the CA: at each connection (`at-use`, the default), when it is bound to
   * the SSL context (`at-bind`), which then answers ERROR for a CA the stack cannot load, or when
   * the connection is opened (`at-open`), which then fails the open without dialling.
   */
  readonly anchorLoad?: 'at-use' | 'at-bind' | 'at-open';
}

/** The strict personality, which the stack-loading variants differ from in one trait each. */
const STRICT = {
  name: 'strict',
  description: 'Trusts only the uploaded CA and checks the dialled name against the certificate.',
  engine: 'auto',
  anchors: 'uploaded',
  verification: 'seclevel',
  sni: 'knob',
  nameCheck: 'dialled',
  nameRules: 'rfc6125',
  tlsFailureOpenCode: -1,
} as const satisfies TrustPersonality;

export const PERSONALITIES = {
  strict: STRICT,
  'ec200u-observed': {
    name: 'ec200u-observed',
    description:
      'EC200U-CN as reported in the field (EC200UCNAAR03A03M08): the uploaded CA plus a built-in store of public ' +
      'roots, judged by mbedTLS 2.28 rules, so a wrong uploaded CA still connects to a publicly rooted server, and a ' +
      'private root that OpenSSL accepts but mbedTLS refuses (no BasicConstraints CA, no keyCertSign) is rejected; ' +
      'a failed TLS open reports +QMTOPEN: <idx>,4.',
    engine: 'auto',
    anchors: 'uploaded+builtin',
    verification: 'seclevel',
    sni: 'knob',
    nameCheck: 'hostname',
    nameRules: 'stack',
    tlsFailureOpenCode: 4,
  },
  'ec200u-store-only': {
    name: 'ec200u-store-only',
    description:
      'The literal reading of the EC200U-CN field report: only the built-in store is trusted and the uploaded CA ' +
      'is ignored, so even a fully valid private CA is rejected (+QMTOPEN: <idx>,4).',
    engine: 'auto',
    anchors: 'builtin',
    verification: 'seclevel',
    sni: 'knob',
    nameCheck: 'hostname',
    nameRules: 'stack',
    tlsFailureOpenCode: 4,
  },
  'loads-ca-at-bind': {
    ...STRICT,
    name: 'loads-ca-at-bind',
    description:
      'Like strict, but the stack loads the CA when it is bound (QSSLCFG "cacert") and answers ERROR for one it ' +
      'cannot load (a critical extension mbedTLS 2.28 cannot read): the anchor is refused before any dial.',
    anchorLoad: 'at-bind',
  },
  'loads-ca-at-open': {
    ...STRICT,
    name: 'loads-ca-at-open',
    description:
      'Like strict, but the stack loads the CA when the connection is opened and, for one it cannot load (a critical ' +
      'extension mbedTLS 2.28 cannot read), ends QMTOPEN with its TLS failure code without dialling: no error answer, no connection.',
    anchorLoad: 'at-open',
  },
  'mbedtls-2.28': {
    name: 'mbedtls-2.28',
    description:
      'Stock mbedTLS 2.28 through the mbedTLS engine: the uploaded CA only; the hostname is set (SNI and name ' +
      'check) only when SNI is on, and without it no name is checked.',
    engine: 'mbedtls',
    anchors: 'uploaded',
    verification: 'seclevel',
    sni: 'knob',
    nameCheck: 'hostname',
    nameRules: 'stack',
    tlsFailureOpenCode: -1,
  },
  lenient: {
    name: 'lenient',
    description: 'Ignores seclevel: never verifies the server certificate (SIM5320-style behaviour).',
    engine: 'auto',
    anchors: 'uploaded',
    verification: 'never',
    sni: 'knob',
    nameCheck: 'none',
    nameRules: 'stack',
    tlsFailureOpenCode: -1,
  },
  'mfw-1.2.0': {
    name: 'mfw-1.2.0',
    description:
      'nRF9160 modem firmware 1.2.0: verifies against the sec_tag CA and the hostname, sends no SNI.',
    engine: 'auto',
    anchors: 'uploaded',
    verification: 'seclevel',
    sni: 'never',
    nameCheck: 'hostname',
    nameRules: 'stack',
    tlsFailureOpenCode: -1,
  },
  'mfw-1.2.3': {
    name: 'mfw-1.2.3',
    description: 'nRF9160 modem firmware 1.2.3 (SNI since 1.2.1): the hostname is sent as SNI and verified.',
    engine: 'auto',
    anchors: 'uploaded',
    verification: 'seclevel',
    sni: 'hostname',
    nameCheck: 'hostname',
    nameRules: 'stack',
    tlsFailureOpenCode: -1,
  },
} as const satisfies Record<string, TrustPersonality>;

export type PersonalityName = keyof typeof PERSONALITIES;

export const isPersonalityName = (name: string): name is PersonalityName =>
  Object.hasOwn(PERSONALITIES, name);

/** The trust anchors a personality uses, given what was uploaded. */
export function trustAnchors(p: TrustPersonality, uploadedPem: string | null): string | null {
  const parts: string[] = [];
  if (p.anchors !== 'builtin' && uploadedPem) parts.push(uploadedPem);
  if (p.anchors !== 'uploaded' && p.builtinAnchorsPem) parts.push(p.builtinAnchorsPem);
  return parts.length > 0 ? parts.map((s) => (s.endsWith('\n') ? s : `${s}\n`)).join('') : null;
}
