/**
 * AT+QSSLCFG keys: the EC200x-CN & EC800x-CN SSL application note plus the
 * EC200U extras. Used only when the device's own `AT+QSSLCFG=?` list is not available; otherwise the
 * device's list decides which keys exist.
 */
export const DOCUMENTED_SSL_KEYS = [
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
  // EC200U-CN extras (forums.quectel.com/t/…/57781); absent from the EC200x/EC800x note.
  'ignorecertitem',
] as const;

/** Keys whose value is a file path: quoted when set, shown quoted in read-backs. */
export const PATH_KEYS: ReadonlySet<string> = new Set(['cacert', 'cacertex', 'clientcert', 'clientkey']);

/**
 * Values every case pins so a context left tampered with by someone else cannot change an outcome:
 * the documented defaults, except the "ignore" knobs, which are pinned to "do not ignore".
 * A key is only written when the device lists it and its value differs.
 */
export const BASELINE_SSL_VALUES: Readonly<Record<string, string>> = {
  ciphersuite: '0XFFFF',
  closetimemode: '0',
  session_cache: '0',
  ignoremulticertchainverify: '0',
  ignoreinvalidcertsign: '0',
  ignorecertitem: '0',
};

/** How a value is written on the command line: paths quoted, numbers and hex bare (a quoted 0XFFFF is refused). */
export function formatSslValue(key: string, value: string): string {
  return PATH_KEYS.has(key) ? `"${value.replaceAll('"', '')}"` : value;
}

/** The value from a read-back `+QSSLCFG: "<key>",<ctx>,<value>`, quotes removed; null when absent. */
export function parseSslReadBack(lines: readonly string[], key: string, ctx: number): string | null {
  const prefix = `+QSSLCFG: "${key}",${ctx},`;
  const line = lines.find((l) => l.toLowerCase().startsWith(prefix.toLowerCase()));
  if (line === undefined) return null;
  return line.slice(prefix.length).replace(/^"(.*)"$/, '$1');
}

/** Whether two values mean the same setting (hex case and leading zeros differ between firmware). */
export function sameSslValue(key: string, a: string, b: string): boolean {
  if (PATH_KEYS.has(key)) return a === b;
  if (/^0x[0-9a-f]+$/i.test(a) && /^0x[0-9a-f]+$/i.test(b))
    return Number.parseInt(a, 16) === Number.parseInt(b, 16);
  return a.trim() === b.trim();
}
