import type { AtResponse } from '../at/engine.ts';
import type { DeviceIdentity } from './driver.ts';

/** Longer than any real model or firmware string; a longer "field" is a garbled line. */
export const IDENTITY_FIELD_MAX = 64;

export const IDENTITY_PATTERNS = {
  /** A vendor name as ATI / AT+CGMI give it. */
  manufacturer: /^[A-Za-z][A-Za-z0-9 .,&_-]{1,39}$/,
  model: /^[A-Za-z0-9][A-Za-z0-9 ._-]{1,39}$/,
  /** Firmware revisions: letters, digits, dots, underscores, dashes (EC200UCNAAR03A03M08_01.001.01.001, mfw_nrf9160_1.3.5). */
  firmware: /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/,
  imei: /^\d{15}$/,
} as const;

/** A line as an identity field: printable ASCII only, bounded, trimmed; anything else is null. */
export function identityField(line: string | undefined | null, pattern: RegExp): string | null {
  if (line === undefined || line === null) return null;
  const text = line.trim();
  if (text.length === 0 || text.length > IDENTITY_FIELD_MAX) return null;
  if (!/^[\x20-\x7e]+$/.test(text)) return null;
  return pattern.test(text) ? text : null;
}

/** The first line of an OK answer that is a clean field of this kind (never a line by position alone). */
export function fieldFrom(response: AtResponse | null, pattern: RegExp): string | null {
  if (!response?.ok) return null;
  for (const line of response.lines) {
    const value = identityField(line, pattern);
    if (value !== null) return value;
  }
  return null;
}

/** Answers as a reader can see them: control and non-ASCII bytes escaped, each answer bounded. */
export function escapedAnswers(responses: readonly (AtResponse | null)[]): string {
  return responses
    .filter((r): r is AtResponse => r !== null)
    .map((r) => {
      const text = [...r.lines, r.final].join('\\n');
      const escaped = text.replace(/[^\x20-\x7e\\]/g, (c) => {
        const code = c.charCodeAt(0);
        return code <= 0xff
          ? `\\x${code.toString(16).padStart(2, '0')}`
          : `\\u${code.toString(16).padStart(4, '0')}`;
      });
      return `${r.command}: ${escaped.length > 200 ? `${escaped.slice(0, 200)}… (${escaped.length} chars)` : escaped}`;
    })
    .join(' | ');
}

/**
 * Identity from a dialect's query, asked again once if a field came back garbled (a stray line,
 * noise, a torn answer). If it stays garbled the identity is marked unreliable, with the raw
 * answers escaped: reports show it, and `baseline update` refuses such a run.
 */
export async function identifyReliably(
  query: () => Promise<{ identity: DeviceIdentity; answers: readonly (AtResponse | null)[] }>,
): Promise<DeviceIdentity> {
  let last: { identity: DeviceIdentity; answers: readonly (AtResponse | null)[] } | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    last = await query();
    const { manufacturer, model, firmware } = last.identity;
    if (![manufacturer, model, firmware].includes('unknown')) return { ...last.identity, reliable: true };
  }
  if (!last) throw new Error('identity was never queried');
  return { ...last.identity, reliable: false, raw: escapedAnswers(last.answers) };
}
