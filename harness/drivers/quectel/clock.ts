/**
 * AT+CCLK time: `"yy/MM/dd,hh:mm:ss±zz"`, zz the offset from UTC in quarter hours. The harness writes
 * UTC (+00) and reads any offset.
 */
export function formatCclk(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const yy = date.getUTCFullYear() % 100;
  return `"${p(yy)}/${p(date.getUTCMonth() + 1)}/${p(date.getUTCDate())},${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())}+00"`;
}

/** The instant a `+CCLK: "…"` answer names, or null when it is not in that shape. Years are 2000–2099. */
export function parseCclk(line: string): Date | null {
  const m = /"(\d\d)\/(\d\d)\/(\d\d),(\d\d):(\d\d):(\d\d)([+-]\d\d?)?"/.exec(line);
  if (!m) return null;
  const [, yy, mo, dd, hh, mi, ss, tz] = m.map(Number) as number[];
  const utc = Date.UTC(2000 + (yy ?? 0), (mo ?? 1) - 1, dd ?? 1, hh ?? 0, mi ?? 0, ss ?? 0);
  const offsetMin = (Number.isFinite(tz) ? (tz as number) : 0) * 15;
  const date = new Date(utc - offsetMin * 60_000);
  return Number.isNaN(date.getTime()) ? null : date;
}
