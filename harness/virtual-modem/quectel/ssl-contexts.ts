/** QSSLCFG keys with their documented defaults (EC200x/EC800x SSL application note). */
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
} as const;

export type SslKey = keyof typeof SSL_DEFAULTS;

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
};

export const SSL_CONTEXT_COUNT = 6;

export type SslContext = Record<SslKey, string>;

export const newSslContexts = (): SslContext[] =>
  Array.from({ length: SSL_CONTEXT_COUNT }, () => ({ ...SSL_DEFAULTS }));

export const isSslKey = (key: string): key is SslKey => Object.hasOwn(SSL_DEFAULTS, key);

/** Read-back line for one key, formatted as the module prints it. */
export function formatSslValue(key: SslKey, ctx: number, value: string): string {
  return `+QSSLCFG: "${key}",${ctx},${PATH_KEYS.has(key) ? `"${value}"` : value}`;
}

/** Checks a set value: paths must be quoted, numbers unquoted and in range. Returns the stored form or null. */
export function validateSslValue(key: SslKey, value: string, quoted: boolean): string | null {
  if (PATH_KEYS.has(key)) return quoted ? value : null;
  if (quoted) return null; // a quoted number is refused, as `"ciphersuite",2,"0XFFFF"` is on real modules
  if (key === 'ciphersuite') return /^0X[0-9A-F]{4}$/i.test(value) ? value.toUpperCase() : null;
  const n = Number(value);
  const ok = NUMERIC_RANGES[key];
  return Number.isInteger(n) && ok?.(n) ? String(n) : null;
}
