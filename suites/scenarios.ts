import type { CaseSpec } from '../harness/runner/run-case.ts';
import type { Expectation, ProfileName } from './profiles.ts';

/** One conformance scenario: a case to run and what each profile expects of it. */
export interface Scenario extends CaseSpec {
  readonly title: string;
  /** The scenario that differs from this one by exactly the defect; every defect names its twin. */
  readonly twin?: string;
  readonly expected: Readonly<Record<ProfileName, Expectation>>;
}

const SERVER_AUTH_TLS12 = { seclevel: 1, sslversion: 3, sni: 1 } as const;

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'anchors::right-ca',
    title: 'valid chain, the issuing root uploaded',
    certs: { keyType: 'p256', anchor: 'issuing-root' },
    settings: SERVER_AUTH_TLS12,
    expected: { rfc5280: 'accept', webpki: 'accept', 'mbedtls-2.28': 'accept' },
  },
  {
    id: 'anchors::wrong-ca',
    title: 'valid chain, an unrelated root uploaded',
    twin: 'anchors::right-ca',
    certs: { keyType: 'p256', anchor: 'unrelated-root' },
    settings: SERVER_AUTH_TLS12,
    expected: { rfc5280: 'reject', webpki: 'reject', 'mbedtls-2.28': 'reject' },
  },
];
