/**
 * The A76xx SSL contexts as the module holds them: ten, each with the keys an A7682 lists in its
 * `AT+CSSLCFG=?` answer (a public transcript), in that order. Defaults as this virtual module
 * ships them: all versions, no authentication, the clock ignored, SNI off (the public driver code
 * we read disagrees on SNI; the harness reads it, and this model takes "off").
 */
export const SSL_KEYS = [
  'sslversion',
  'authmode',
  'ignorelocaltime',
  'negotiatetime',
  'cacert',
  'clientcert',
  'clientkey',
  'enableSNI',
] as const;

export type SslKey = (typeof SSL_KEYS)[number];
export type SslContext = Record<SslKey, string>;

export const SSL_CONTEXT_COUNT = 10;

const DEFAULTS: SslContext = {
  sslversion: '4',
  authmode: '0',
  ignorelocaltime: '1',
  negotiatetime: '300',
  cacert: '',
  clientcert: '',
  clientkey: '',
  enableSNI: '0',
};

export const newSslContexts = (): SslContext[] =>
  Array.from({ length: SSL_CONTEXT_COUNT }, () => ({ ...DEFAULTS }));

/** `AT+CSSLCFG=?`, as the A7682 answered it. */
export const SSL_TEST_LINES: readonly string[] = [
  '+CSSLCFG: "sslversion",(0-9),(0-4)',
  '+CSSLCFG: "authmode",(0-9),(0-3)',
  '+CSSLCFG: "ignorelocaltime",(0-9),(0,1)',
  '+CSSLCFG: "negotiatetime",(0-9),(10-300)',
  '+CSSLCFG: "cacert",(0-9),(5-108)',
  '+CSSLCFG: "clientcert",(0-9),(5-108)',
  '+CSSLCFG: "clientkey",(0-9),(5-108)',
  '+CSSLCFG: "enableSNI",(0-9),(0,1)',
];

const NAMES: ReadonlySet<string> = new Set(['cacert', 'clientcert', 'clientkey']);

export const isSslKey = (key: string): key is SslKey => (SSL_KEYS as readonly string[]).includes(key);

/** `+CSSLCFG: <ctx>,<values in key order>` (names quoted): the read form `AT+CSSLCFG=<ctx>`. */
export function contextLine(ctx: number, c: SslContext): string {
  return `+CSSLCFG: ${ctx},${SSL_KEYS.map((k) => (NAMES.has(k) ? `"${c[k]}"` : c[k])).join(',')}`;
}

/** The stored value of a write, or null when the module refuses it (ERROR). An empty name clears the key. */
export function validSslValue(key: SslKey, value: string, quoted: boolean): string | null {
  if (NAMES.has(key))
    return quoted && (value === '' || (value.length >= 5 && value.length <= 108)) ? value : null;
  const n = Number(value);
  if (!/^\d+$/.test(value) || quoted) return null;
  const ranges: Record<string, [number, number]> = {
    sslversion: [0, 4],
    authmode: [0, 3],
    ignorelocaltime: [0, 1],
    negotiatetime: [10, 300],
    enableSNI: [0, 1],
  };
  const [lo, hi] = ranges[key] ?? [0, 0];
  return n >= lo && n <= hi ? String(n) : null;
}
