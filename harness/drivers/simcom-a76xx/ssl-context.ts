import { type CapabilityDump, listedKeys } from '../test-answers.ts';

/** The keys whose value is a certificate name (quoted in writes and read-backs). */
export const NAME_KEYS: ReadonlySet<string> = new Set(['cacert', 'clientcert', 'clientkey', 'password']);

/**
 * The keys the A76XX manual documents for AT+CSSLCFG, in its order; used only when the module gives
 * no test answer (and said so in the capabilities' basis).
 */
export const DOCUMENTED_KEYS = [
  'sslversion',
  'authmode',
  'ignorelocaltime',
  'negotiatetime',
  'cacert',
  'clientcert',
  'clientkey',
  'enableSNI',
] as const;

/** The keys this module lists in `AT+CSSLCFG=?`, in its order; null when it listed none. */
export const listedSslKeys = (dump: CapabilityDump): string[] | null => listedKeys(dump, 'AT+CSSLCFG=?');

/** Fields of a read-back line after its head: quoted names and bare numbers (`3,"ca.pem",1`). */
function fields(text: string): string[] {
  return (text.match(/"[^"]*"|[^,]+/g) ?? []).map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
}

/**
 * One context as `AT+CSSLCFG=<ctx>` reads it: `+CSSLCFG: <ctx>,<value>,…`, the values in the order
 * the test answer lists the keys (our reading of the manual's read form; the key order is the
 * module's own). Null when the line is missing or its field count does not match the keys: a
 * read-back that cannot be attributed key by key is no read-back.
 */
export function parseContext(
  lines: readonly string[],
  ctx: number,
  keys: readonly string[],
): { values: Map<string, string>; line: string } | null {
  const line = lines.find((l) => new RegExp(`^\\+CSSLCFG: ${ctx},`).test(l));
  if (!line) return null;
  const [index, ...values] = fields(line.slice('+CSSLCFG: '.length));
  if (Number(index) !== ctx || values.length !== keys.length) return null;
  return { values: new Map(keys.map((k, i) => [k, values[i] ?? ''])), line };
}

/** A value as a CSSLCFG write takes it: certificate names quoted, numbers bare. */
export const formatSslValue = (key: string, value: string): string =>
  NAME_KEYS.has(key) ? `"${value.replaceAll('"', '')}"` : value;

/** Two values of one key are the same setting (numbers compare as numbers: `0x0035` = `53`). */
export function sameSslValue(key: string, a: string, b: string): boolean {
  if (NAME_KEYS.has(key)) return a === b;
  const n = (v: string) => (/^0x/i.test(v) ? Number.parseInt(v, 16) : Number(v));
  return Number.isFinite(n(a)) && n(a) === n(b);
}
