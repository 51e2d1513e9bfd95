import { type AtEngine, TRANSIENT_RETRIES } from '../../at/engine.ts';
import { AtCommandError } from '../../at/errors.ts';

/** A name the harness refused to touch because it does not carry the owned prefix. */
export class NotOwnedCertificateError extends Error {
  constructor(name: string, prefix: string) {
    super(`refusing to touch certificate ${name}: the harness only owns names ${prefix}*`);
    this.name = 'NotOwnedCertificateError';
  }
}

/** CCERTDOWN names: a `.pem` or `.der` file whose name (without the suffix) is 5 to 108 bytes. */
const CERT_NAME = /^[A-Za-z0-9_.-]{5,108}\.(pem|der)$/;

/**
 * The module's certificate store (AT+CCERTLIST / AT+CCERTDOWN / AT+CCERTDELE), with every write and
 * delete confined to names under the owned prefix. A download replaces nothing it does not own.
 */
export class SimcomCertificates {
  readonly #at: AtEngine;
  readonly #prefix: string;
  readonly #t: { readonly basic: number; readonly certDownload: number };

  constructor(at: AtEngine, prefix: string, timeouts: { basic: number; certDownload: number }) {
    if (!/^[A-Za-z0-9_.-]+$/.test(prefix))
      throw new Error(`owned certificate prefix ${JSON.stringify(prefix)} is not a plain name`);
    this.#at = at;
    this.#prefix = prefix;
    this.#t = timeouts;
  }

  /** `<prefix><name>` for a name the harness owns (`ca.pem` → `trustlab_ca.pem`). */
  ownedName(name: string): string {
    const full = `${this.#prefix}${name}`;
    if (!CERT_NAME.test(full))
      throw new Error(`${full} is not a certificate name the module takes (5–108 bytes, .pem or .der)`);
    return full;
  }

  owns(name: string): boolean {
    return name.startsWith(this.#prefix) && CERT_NAME.test(name);
  }

  /** Every name the module lists, owned or not (only to look, never to touch). */
  async list(): Promise<string[]> {
    const r = await this.#at.commandOk('AT+CCERTLIST', {
      timeoutMs: this.#t.basic,
      retries: TRANSIENT_RETRIES,
    });
    return r.lines.flatMap((l) => {
      const m = /^\+CCERTLIST: "([^"]*)"/.exec(l);
      return m?.[1] ? [m[1]] : [];
    });
  }

  async delete(name: string): Promise<void> {
    if (!this.owns(name)) throw new NotOwnedCertificateError(name, this.#prefix);
    await this.#at.commandOk(`AT+CCERTDELE="${name}"`, {
      timeoutMs: this.#t.basic,
      retries: TRANSIENT_RETRIES,
    });
  }

  /**
   * Downloads `content` under an owned name: `AT+CCERTDOWN="<name>",<length>`, the `>` prompt, then
   * exactly that many bytes; listed afterwards, since the module reports nothing else of what it stored.
   */
  async download(name: string, content: Buffer, knownPresent = false): Promise<void> {
    if (!this.owns(name)) throw new NotOwnedCertificateError(name, this.#prefix);
    // A name the caller knows is ours and there (it downloaded it) is replaced without listing first.
    if (knownPresent) await this.delete(name);
    else if ((await this.list()).includes(name)) await this.delete(name);
    const r = await this.#at.commandWithData(`AT+CCERTDOWN="${name}",${content.length}`, content, {
      prompt: '>',
      timeoutMs: this.#t.certDownload,
    });
    if (!r.ok) throw new AtCommandError('AT+CCERTDOWN', r.final);
    if (!(await this.list()).includes(name))
      throw new Error(`${name} not listed by AT+CCERTLIST after AT+CCERTDOWN answered OK`);
  }
}
