import type { QuectelModel } from './models.ts';

/** QSSLCFG keys with their documented defaults (EC200x/EC800x SSL application note, docs/002). */
export const SSL_DEFAULTS = {
  sslversion: '4',
  ciphersuite: '0XFFFF',
  cacert: '',
  cacertex: '',
  clientcert: '',
  clientkey: '',
  seclevel: '0',
  ignorelocaltime: '1',
  negotiatetime: '300',
  sni: '0',
  closetimemode: '0',
  ignoremulticertchainverify: '0',
  ignoreinvalidcertsign: '0',
  session_cache: '0',
  /** EC200U only: a bitmask of certificate items to ignore; no document defines the bits. */
  ignorecertitem: '0',
} as const;

export type SslKey = keyof typeof SSL_DEFAULTS;

const COMMON_KEYS: readonly SslKey[] = [
  'sslversion',
  'ciphersuite',
  'cacert',
  'cacertex',
  'clientcert',
  'clientkey',
  'seclevel',
  'ignorelocaltime',
  'negotiatetime',
  'sni',
  'closetimemode',
  'ignoremulticertchainverify',
  'ignoreinvalidcertsign',
  'session_cache',
];

/** Cipher suites of the note's Table 3, as the test command lists them. */
export const SUPPORTED_CIPHERSUITES = [
  0x0035, 0x002f, 0x0005, 0x0004, 0x000a, 0x003d, 0xc002, 0xc003, 0xc004, 0xc005, 0xc007, 0xc008, 0xc009,
  0xc00a, 0xc011, 0xc012, 0xc013, 0xc014, 0xc00c, 0xc00d, 0xc00e, 0xc00f, 0xc023, 0xc024, 0xc025, 0xc026,
  0xc027, 0xc028, 0xc029, 0xc02a, 0xc02f, 0xc030,
] as const;

const hex = (n: number) => `0X${n.toString(16).toUpperCase().padStart(4, '0')}`;

/** Keys whose value is a path and is shown quoted in read-backs. */
const PATH_KEYS: ReadonlySet<SslKey> = new Set(['cacert', 'cacertex', 'clientcert', 'clientkey']);

/** Accepted values per numeric key; a value outside makes the set command answer ERROR. */
const NUMERIC_RANGES: Partial<Record<SslKey, (v: number) => boolean>> = {
  sslversion: (v) => v >= 0 && v <= 4,
  seclevel: (v) => v >= 0 && v <= 2,
  ignorelocaltime: (v) => v === 0 || v === 1,
  negotiatetime: (v) => v >= 10 && v <= 300,
  sni: (v) => v === 0 || v === 1,
  closetimemode: (v) => v === 0 || v === 1,
  ignoremulticertchainverify: (v) => v === 0 || v === 1,
  ignoreinvalidcertsign: (v) => v === 0 || v === 1,
  session_cache: (v) => v === 0 || v === 1,
  ignorecertitem: (v) => v >= 0 && v <= 1048575,
};

export const SSL_CONTEXT_COUNT = 6;

export type SslContext = Record<SslKey, string>;

export const newSslContexts = (): SslContext[] =>
  Array.from({ length: SSL_CONTEXT_COUNT }, () => ({ ...SSL_DEFAULTS }));

export function sslKeysOf(model: QuectelModel): readonly SslKey[] {
  return [...COMMON_KEYS, ...model.extraSslKeys];
}

/** The key a typed name means on this model ("secllevel" is the note's spelling of "seclevel"). */
export function resolveSslKey(model: QuectelModel, typed: string): SslKey | null {
  const key = typed === 'secllevel' ? 'seclevel' : typed;
  return (sslKeysOf(model) as readonly string[]).includes(key) ? (key as SslKey) : null;
}

/** Read-back line for one key, formatted as the module prints it, with the key as it was typed. */
export function formatSslValue(typedKey: string, key: SslKey, ctx: number, value: string): string {
  return `+QSSLCFG: "${typedKey}",${ctx},${PATH_KEYS.has(key) ? `"${value}"` : value}`;
}

/** Checks a set value: paths must be quoted, numbers unquoted and in range. Returns the stored form or null. */
export function validateSslValue(key: SslKey, value: string, quoted: boolean): string | null {
  if (PATH_KEYS.has(key)) return quoted ? value : null;
  if (quoted) return null; // a quoted number is refused, as `"ciphersuite",2,"0XFFFF"` is on real modules
  if (key === 'ciphersuite') {
    if (!/^0X[0-9A-F]{4}$/i.test(value)) return null;
    const id = Number.parseInt(value.slice(2), 16);
    return id === 0xffff || (SUPPORTED_CIPHERSUITES as readonly number[]).includes(id) ? hex(id) : null;
  }
  const n = Number(value);
  const ok = NUMERIC_RANGES[key];
  return Number.isInteger(n) && ok?.(n) ? String(n) : null;
}

/** `AT+QSSLCFG=?` as this model answers it. */
export function sslTestLines(model: QuectelModel): string[] {
  const ctx = `(0-${SSL_CONTEXT_COUNT - 1})`;
  const lines: Record<SslKey, string> = {
    sslversion: `"sslversion",${ctx},(0-4)`,
    ciphersuite: `"ciphersuite",${ctx},(${[...SUPPORTED_CIPHERSUITES.map(hex), '0XFFFF'].join(',')})`,
    cacert: `"cacert",${ctx},<cacertpath>`,
    cacertex: `"cacertex",${ctx},<cacertpath>`,
    clientcert: `"clientcert",${ctx},<client_cert_path>`,
    clientkey: `"clientkey",${ctx},<client_key_path>`,
    seclevel: `"${model.seclevelSpelling}",${ctx},(0-2)`,
    ignorelocaltime: `"ignorelocaltime",${ctx},(0,1)`,
    negotiatetime: `"negotiatetime",${ctx},(10-300)`,
    sni: `"sni",${ctx},(0,1)`,
    closetimemode: `"closetimemode",${ctx},(0,1)`,
    ignoremulticertchainverify: `"ignoremulticertchainverify",${ctx},(0,1)`,
    ignoreinvalidcertsign: `"ignoreinvalidcertsign",${ctx},(0,1)`,
    session_cache: `"session_cache",${ctx},(0,1)`,
    ignorecertitem: `"ignorecertitem",${ctx},(0-1048575)`,
  };
  return sslKeysOf(model).map((k) => `+QSSLCFG: ${lines[k]}`);
}
