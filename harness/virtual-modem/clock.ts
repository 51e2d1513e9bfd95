/** The module's real-time clock: starts at a given time (host time by default) and runs on from there. */
export class DeviceClock {
  #offsetMs: number;
  /** Time zone in quarter hours, as +CCLK reports it. */
  #zoneQuarters = 0;

  constructor(start: Date | null = null) {
    this.#offsetMs = start ? start.getTime() - Date.now() : 0;
  }

  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }

  set(at: Date, zoneQuarters = 0): void {
    this.#offsetMs = at.getTime() - Date.now();
    this.#zoneQuarters = zoneQuarters;
  }

  /** `yy/MM/dd,hh:mm:ss±zz` in local time of the stored zone (3GPP TS 27.007 +CCLK). */
  format(): string {
    const local = new Date(this.now().getTime() + this.#zoneQuarters * 15 * 60_000);
    const p = (n: number) => String(n).padStart(2, '0');
    const zone = `${this.#zoneQuarters < 0 ? '-' : '+'}${p(Math.abs(this.#zoneQuarters))}`;
    return `${p(local.getUTCFullYear() % 100)}/${p(local.getUTCMonth() + 1)}/${p(local.getUTCDate())},${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}${zone}`;
  }

  /** Parses the +CCLK form; null when malformed. Two-digit years are 2000–2099. */
  static parse(text: string): { at: Date; zoneQuarters: number } | null {
    const m = /^(\d\d)\/(\d\d)\/(\d\d),(\d\d):(\d\d):(\d\d)([+-]\d\d)$/.exec(text);
    if (!m) return null;
    const [y, mo, d, h, mi, s, z] = m.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || Math.abs(z) > 96) return null;
    const localMs = Date.UTC(2000 + y, mo - 1, d, h, mi, s);
    return { at: new Date(localMs - z * 15 * 60_000), zoneQuarters: z };
  }
}
