import type { AtEngine } from '../at/engine.ts';
import type { RegistrationWait } from './case-log.ts';

export interface RegistrationPolling {
  readonly at: AtEngine;
  /** Bound of each query. */
  readonly basicMs: number;
  /** Bound of the whole wait. */
  readonly timeoutMs: number;
  readonly pollMs: number;
}

/**
 * Polls AT+CEREG? (AT+CREG? where CEREG is refused: a module on 2G/3G) until <stat> is 1 (home) or
 * 5 (roaming), bounded. 27.007, so shared by dialects that have nothing better. The caller goes on
 * either way: the next open records what the network allowed.
 */
export async function awaitRegistration({
  at,
  basicMs,
  timeoutMs,
  pollMs,
}: RegistrationPolling): Promise<RegistrationWait> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const waited = () => `${Date.now() - started} ms`;
  let query: 'AT+CEREG?' | 'AT+CREG?' = 'AT+CEREG?';
  for (;;) {
    const r = await at.command(query, { timeoutMs: basicMs });
    if (!r.ok && query === 'AT+CEREG?') {
      query = 'AT+CREG?';
      continue;
    }
    const prefix = query.slice(2, -1);
    const line = r.lines.find((l) => l.startsWith(`${prefix}:`));
    const raw = line ?? r.final;
    const stat = line
      ?.slice(prefix.length + 1)
      .split(',')[1]
      ?.trim();
    if (stat === '1' || stat === '5') return { raw, note: `registered after ${waited()}` };
    if (!r.ok) return { raw, note: `${query} refused; not waited on` };
    if (Date.now() + pollMs > deadline) {
      return { raw, note: `not registered after ${waited()} (bound ${timeoutMs} ms)` };
    }
    // A poll, not an event: 27.007 registration URCs are off unless the product enabled them.
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
