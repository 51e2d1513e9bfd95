import { type CapabilityDump, valueGroups, valueList } from '../test-answers.ts';
import type {
  PeerVerification,
  SettingAsFound,
  TlsCapabilities,
  TlsIntent,
  TlsVersion,
} from '../tls-intent.ts';
import { DOCUMENTED_KEYS, listedSslKeys } from './ssl-context.ts';

/** AT+CSSLCFG "sslversion" numbers (4 = all); there is none for TLS 1.3 alone. */
const VERSION_NUMBER: Readonly<Partial<Record<TlsVersion | 'all', string>>> = {
  TLSv1: '1',
  'TLSv1.1': '2',
  'TLSv1.2': '3',
  all: '4',
};
/** "authmode": 0 none, 1 server, 2 server and client (3, client only, is not a TLS intent here). */
const AUTHMODE: Readonly<Record<PeerVerification, string>> = { none: '0', server: '1', mutual: '2' };

/** Keys the intent's core fields map to; every other listed key is a named vendor switch. */
const CORE_KEYS: ReadonlySet<string> = new Set([
  ...['sslversion', 'authmode', 'ignorelocaltime', 'negotiatetime', 'enableSNI'],
  ...['cacert', 'clientcert', 'clientkey', 'password', 'ciphersuites', 'ciphersuite'],
]);

export const VENDOR_PREFIX = 'simcom.';

/** The test commands captured once per device. */
export const CAPABILITY_PROBES = ['AT+CSSLCFG=?', 'AT+CMQTTACCQ=?', 'AT+CMQTTSSLCFG=?'] as const;

/** The values the `AT+CSSLCFG=?` answer lists for a key (its last group); null when not listed. */
export function listedSslValues(dump: CapabilityDump, key: string): string[] | null {
  const line = dump['AT+CSSLCFG=?']?.find((l) => l.startsWith(`+CSSLCFG: "${key}",`));
  return line ? valueList(valueGroups(line).at(-1)) : null;
}

/** The cipher-suite key this module spells, if it lists one (manuals differ: "ciphersuites" / "ciphersuite"). */
export function cipherSuiteKey(dump: CapabilityDump): string | null {
  const keys = listedSslKeys(dump) ?? [];
  return keys.find((k) => /^ciphersuites?$/.test(k)) ?? null;
}

/**
 * The AT+CMQTTACCQ server type meaning MQTT over SSL/TLS. A76xx and SIM7600 transcripts both pass
 * 1 (0 is plain TCP); the module's own `AT+CMQTTACCQ=?` decides when it lists the third group, and
 * a module that lists no 1 there cannot run MQTT over TLS at all.
 */
export function sslServerType(dump: CapabilityDump): { value: string | null; basis: string } {
  const line = dump['AT+CMQTTACCQ=?']?.find((l) => l.startsWith('+CMQTTACCQ:'));
  const types = line ? valueList(valueGroups(line)[2]) : null;
  if (!types) return { value: '1', basis: 'AT+CMQTTACCQ=? lists no server types: 1 (SSL/TLS) assumed' };
  return types.includes('1')
    ? { value: '1', basis: `AT+CMQTTACCQ=? lists server types ${types.join(',')}: 1 is SSL/TLS` }
    : { value: null, basis: `AT+CMQTTACCQ=? lists server types ${types.join(',')}: none is SSL/TLS` };
}

/** What the owned context's SNI switch said before the harness set anything. */
export function sniAsFound(raw: string, value: string | undefined): SettingAsFound {
  return {
    name: 'SNI',
    raw,
    meaning:
      value === '1'
        ? 'SNI on (enableSNI 1)'
        : value === '0'
          ? 'SNI off (enableSNI 0)'
          : `enableSNI ${value ?? 'not read'}`,
  };
}

/**
 * What this module's TLS client can be told, from its own `AT+CSSLCFG=?` and `AT+CMQTTACCQ=?`
 * answers. Without a CSSLCFG answer the documented keys are assumed (and said so).
 */
export function simcomTlsCapabilities(
  dump: CapabilityDump,
  asFound: readonly SettingAsFound[],
): TlsCapabilities {
  const listed = listedSslKeys(dump);
  const keys = new Set<string>(listed ?? DOCUMENTED_KEYS);
  const values = (key: string) => (listed ? listedSslValues(dump, key) : null);
  const modes = values('authmode') ?? ['0', '1', '2', '3'];
  const peer = (Object.keys(AUTHMODE) as PeerVerification[]).filter(
    (p) =>
      modes.includes(AUTHMODE[p]) && (p !== 'mutual' || (keys.has('clientcert') && keys.has('clientkey'))),
  );
  const versionValues = keys.has('sslversion') ? (values('sslversion') ?? ['0', '1', '2', '3', '4']) : [];
  const suiteKey = cipherSuiteKey(dump);
  const server = sslServerType(dump);
  return {
    peerVerification: peer,
    versions: (['TLSv1', 'TLSv1.1', 'TLSv1.2'] as const).filter((v) =>
      versionValues.includes(VERSION_NUMBER[v] as string),
    ),
    sniSwitch: keys.has('enableSNI'),
    sniFixed: null,
    hostnameCheckSwitch: false,
    clockSwitch: keys.has('ignorelocaltime'),
    cipherSuiteSelection: suiteKey !== null,
    cipherSuites: (suiteKey ? (values(suiteKey) ?? []) : []).filter((s) => s.toUpperCase() !== '0XFFFF'),
    vendor: [...keys].filter((k) => !CORE_KEYS.has(k)).map((k) => `${VENDOR_PREFIX}${k}`),
    // AT+CCERTDOWN takes `.der` names and raw bytes: a DER file can be downloaded.
    derAnchors: true,
    basis: [
      listed
        ? `AT+CSSLCFG=? lists ${listed.length} keys: ${listed.join(', ')}`
        : 'AT+CSSLCFG=? gave no list: the documented keys are assumed',
      server.basis,
    ],
    asFound,
    ...(server.value === null ? { unavailable: 'no MQTT-over-TLS server type in AT+CMQTTACCQ=?' } : {}),
  };
}

/** The AT+CSSLCFG values an intent means on this dialect: the one place it becomes SIMCom numbers. */
export function sslValuesFor(intent: TlsIntent, suiteKey: string | null): Record<string, string> {
  const version = VERSION_NUMBER[intent.version];
  if (version === undefined)
    throw new Error(`AT+CSSLCFG "sslversion" has no value for ${intent.version} alone`);
  if (intent.cipherSuites !== 'all' && (intent.cipherSuites.length !== 1 || !suiteKey))
    throw new Error(`AT+CSSLCFG cannot limit the suites to ${intent.cipherSuites.join(', ')}`);
  const vendor = Object.entries(intent.vendor).map(([name, value]) => {
    if (!name.startsWith(VENDOR_PREFIX)) throw new Error(`${name} is not a SIMCom switch`);
    return [name.slice(VENDOR_PREFIX.length), value] as const;
  });
  return {
    sslversion: version,
    authmode: AUTHMODE[intent.peerVerification],
    enableSNI: intent.sni ? '1' : '0',
    ignorelocaltime: intent.deviceClock === 'ignore' ? '1' : '0',
    ...(suiteKey
      ? { [suiteKey]: intent.cipherSuites === 'all' ? '0xFFFF' : (intent.cipherSuites[0] as string) }
      : {}),
    ...Object.fromEntries(vendor),
  };
}
