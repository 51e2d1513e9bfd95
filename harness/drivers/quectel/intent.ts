import { type CapabilityDump, listedKeys, valueGroups, valueList } from '../test-answers.ts';
import type { PeerVerification, TlsCapabilities, TlsIntent, TlsVersion } from '../tls-intent.ts';
import { DOCUMENTED_SSL_KEYS, PATH_KEYS } from './ssl-keys.ts';

/** AT+QSSLCFG "sslversion" numbers (4 = every version the module has); it has none for TLS 1.3 alone. */
const VERSION_NUMBER: Readonly<Partial<Record<TlsVersion | 'all', string>>> = {
  TLSv1: '1',
  'TLSv1.1': '2',
  'TLSv1.2': '3',
  all: '4',
};
const SECLEVEL: Readonly<Record<PeerVerification, string>> = { none: '0', server: '1', mutual: '2' };

/** Keys the intent's core fields and the case's files map to; every other listed key is a named vendor switch. */
const CORE_KEYS: ReadonlySet<string> = new Set([
  ...PATH_KEYS,
  ...['sslversion', 'ciphersuite', 'seclevel', 'secllevel', 'ignorelocaltime', 'negotiatetime', 'sni'],
]);

/** The vendor prefix of this dialect's named switches: `quectel.<QSSLCFG key>`. */
export const VENDOR_PREFIX = 'quectel.';

/**
 * Values a `+QSSLCFG: "<key>",(ctx range),(values)` test answer lists for a key: `(0-4)`, `(0,1)`,
 * `(0X0035,0XFFFF)`; null when the key is not listed or its values are not a list (`<path>`).
 */
export function listedValues(dump: CapabilityDump, key: string): string[] | null {
  const line = dump['AT+QSSLCFG=?']?.find((l) => new RegExp(`^\\+QSSLCFG: "${key}",`, 'i').test(l));
  return line ? valueList(valueGroups(line).at(-1)) : null;
}

/**
 * What this module's TLS client can be told, from its own `AT+QSSLCFG=?` answer: the keys it lists
 * and the values each takes. Without an answer the documented key list is assumed (and said so).
 */
export function quectelTlsCapabilities(dump: CapabilityDump): TlsCapabilities {
  const listed = listedKeys(dump, 'AT+QSSLCFG=?');
  const keys = new Set<string>(listed ?? DOCUMENTED_SSL_KEYS);
  const values = (key: string) => (listed ? listedValues(dump, key) : null);
  const seclevels = values(keys.has('secllevel') ? 'secllevel' : 'seclevel') ?? ['0', '1', '2'];
  const mutualFiles = keys.has('clientcert') && keys.has('clientkey');
  const peer = (Object.keys(SECLEVEL) as PeerVerification[]).filter(
    (p) => seclevels.includes(SECLEVEL[p]) && (p !== 'mutual' || mutualFiles),
  );
  const versionValues = keys.has('sslversion') ? (values('sslversion') ?? ['0', '1', '2', '3', '4']) : [];
  const versions = (['TLSv1', 'TLSv1.1', 'TLSv1.2'] as const).filter((v) =>
    versionValues.includes(VERSION_NUMBER[v] as string),
  );
  const suites = (values('ciphersuite') ?? []).filter((s) => s.toUpperCase() !== '0XFFFF');
  return {
    peerVerification: peer,
    versions,
    sniSwitch: keys.has('sni'),
    sniFixed: null,
    hostnameCheckSwitch: false,
    clockSwitch: keys.has('ignorelocaltime'),
    cipherSuiteSelection: keys.has('ciphersuite'),
    cipherSuites: suites,
    vendor: [...keys].filter((k) => !CORE_KEYS.has(k)).map((k) => `${VENDOR_PREFIX}${k}`),
    // AT+QFUPL stores whatever bytes it is sent: a DER file can be uploaded (whether the stack reads it is the case's question).
    derAnchors: true,
    basis: [
      listed
        ? `AT+QSSLCFG=? lists ${listed.length} keys: ${listed.join(', ')}`
        : 'AT+QSSLCFG=? gave no list: the documented keys are assumed',
    ],
  };
}

/**
 * The AT+QSSLCFG values an intent means on this dialect (seclevel under the spelling the module
 * uses). The one place a TLS intent becomes Quectel numbers.
 */
export function sslValuesFor(intent: TlsIntent, seclevelKey: string): Record<string, string> {
  if (intent.cipherSuites !== 'all' && intent.cipherSuites.length !== 1)
    throw new Error(
      `AT+QSSLCFG "ciphersuite" takes one suite or all; asked ${intent.cipherSuites.join(', ')}`,
    );
  const vendor = Object.entries(intent.vendor).map(([name, value]) => {
    if (!name.startsWith(VENDOR_PREFIX)) throw new Error(`${name} is not a Quectel switch`);
    return [name.slice(VENDOR_PREFIX.length), value] as const;
  });
  const version = VERSION_NUMBER[intent.version];
  if (version === undefined)
    throw new Error(`AT+QSSLCFG "sslversion" has no value for ${intent.version} alone`);
  return {
    sslversion: version,
    [seclevelKey]: SECLEVEL[intent.peerVerification],
    sni: intent.sni ? '1' : '0',
    ignorelocaltime: intent.deviceClock === 'ignore' ? '1' : '0',
    ciphersuite: intent.cipherSuites === 'all' ? '0XFFFF' : (intent.cipherSuites[0] as string).toUpperCase(),
    ...Object.fromEntries(vendor),
  };
}
