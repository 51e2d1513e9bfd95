/** The rule sets a device's behaviour is judged against. */
export const PROFILES = {
  rfc5280: 'RFC 5280 path validation with RFC 6125 name checks',
  webpki: 'CA/Browser Forum Baseline Requirements practice, as browsers apply it',
  'mbedtls-2.28': 'stock mbedTLS 2.28 behaviour, the TLS stack inside these modems',
} as const;

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

/** What a profile says a conforming client does with a case's chain. */
export type Expectation = 'accept' | 'reject';
