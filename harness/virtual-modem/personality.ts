/**
 * How a virtual modem decides whom to trust. Data, not code: the TLS client reads these fields.
 */
export interface TrustPersonality {
  readonly name: string;
  readonly description: string;
  /** Check the dialled name against the server certificate when seclevel ≥ 1. */
  readonly checkHostname: boolean;
  /** The +QMTOPEN result a failed TLS handshake reports (vendors differ: -1, 4 and 5 are all seen). */
  readonly tlsFailureOpenCode: number;
}

export const PERSONALITIES = {
  strict: {
    name: 'strict',
    description: 'Trusts only the uploaded CA and checks the dialled name against the certificate.',
    checkHostname: true,
    tlsFailureOpenCode: -1,
  },
} as const satisfies Record<string, TrustPersonality>;

export type PersonalityName = keyof typeof PERSONALITIES;
