import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The modem's TLS session cache: one saved session per server (address, port and SNI, as a TLS
 * client library keys it) and per trust configuration it was verified under (anchors, verify,
 * name checked), kept in RAM across AT opens and closes and lost on a restart. A CA rebound to
 * the context therefore starts afresh: the model never resumes past a trust change (a real
 * firmware may; the rotation case's observations would show it). Each engine keeps its session in
 * the file it is handed (its own format); a disabled cache hands none.
 */
export class TlsSessionCache {
  readonly #enabled: boolean;
  #dir: string | null = null;
  readonly #files = new Map<string, string>();

  constructor(enabled: boolean) {
    this.#enabled = enabled;
  }

  /** Where the session with this server is kept; undefined when the modem keeps none. */
  fileFor(address: string, port: number, sni: string | null, trust: string): string | undefined {
    if (!this.#enabled) return undefined;
    const key = `${address}:${port}:${sni ?? ''}:${createHash('sha256').update(trust).digest('hex')}`;
    const known = this.#files.get(key);
    if (known) return known;
    this.#dir ??= mkdtempSync(join(tmpdir(), 'trustlab-tls-sessions-'));
    const file = join(this.#dir, `session-${this.#files.size}`);
    this.#files.set(key, file);
    return file;
  }

  /** A restart (or the modem going away): every saved session is gone. */
  clear(): void {
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = null;
    this.#files.clear();
  }
}
