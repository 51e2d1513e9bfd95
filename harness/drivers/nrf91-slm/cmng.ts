import { type AtEngine, TRANSIENT_RETRIES } from '../../at/engine.ts';
import { AtCommandError } from '../../at/errors.ts';

/** %CMNG credential types (modem_key_mgmt.h). */
export const CMNG_TYPE = { rootCa: 0, clientCert: 1, clientKey: 2 } as const;
export type CmngType = (typeof CMNG_TYPE)[keyof typeof CMNG_TYPE];

/** One stored credential as AT%CMNG=1 lists it. */
export interface Credential {
  readonly secTag: number;
  readonly type: number;
  readonly sha: string | null;
}

/** sec_tag values the harness may write and delete; every other sec_tag on the modem is someone else's. */
export interface SecTagRange {
  readonly first: number;
  readonly count: number;
}

/** A sec_tag outside the owned range: the harness never writes or deletes it. */
export class SecTagNotOwnedError extends Error {
  constructor(tag: number, range: SecTagRange) {
    super(
      `refusing to touch sec_tag ${tag}: the harness owns ${range.first}–${range.first + range.count - 1}`,
    );
    this.name = 'SecTagNotOwnedError';
  }
}

const MAX_SEC_TAG = 2_147_483_647;

/** PEM with CR LF line ends, as %CMNG needs inside the quoted content (bifravst/firmware-ci). */
export function toCmngContent(pem: string): string {
  const content = pem.replace(/\r?\n/g, '\r\n');
  if (content.includes('"')) throw new Error('credential content must not contain a double quote');
  return content;
}

/**
 * The modem's credential store through AT%CMNG, confined to the owned sec_tag range. Writes and
 * deletes need the modem out of CFUN 1/2/21 (the caller switches to CFUN=4 first); errors
 * (+CME ERROR: 513–528) are kept raw in the thrown AtCommandError.
 */
export class CredentialStore {
  readonly #at: AtEngine;
  readonly #range: SecTagRange;
  readonly #timeoutMs: number;

  constructor(at: AtEngine, range: SecTagRange, timeoutMs: number) {
    if (
      !Number.isInteger(range.first) ||
      range.first < 0 ||
      range.count < 1 ||
      range.first + range.count - 1 > MAX_SEC_TAG
    ) {
      throw new Error(`sec_tag range ${range.first}+${range.count} is not within 0–${MAX_SEC_TAG}`);
    }
    this.#at = at;
    this.#range = range;
    this.#timeoutMs = timeoutMs;
  }

  owns(tag: number): boolean {
    return Number.isInteger(tag) && tag >= this.#range.first && tag < this.#range.first + this.#range.count;
  }

  #guard(tag: number): void {
    if (!this.owns(tag)) throw new SecTagNotOwnedError(tag, this.#range);
  }

  async list(secTag?: number): Promise<Credential[]> {
    return (await this.listLines(secTag)).flatMap((l) => {
      const m = /^%CMNG: (\d+),\s*(\d+)(?:,\s*"?([0-9A-Fa-f]*)"?)?/.exec(l);
      return m ? [{ secTag: Number(m[1]), type: Number(m[2]), sha: m[3] || null }] : [];
    });
  }

  /** The `%CMNG:` lines of AT%CMNG=1 (optionally for one sec_tag), as the modem printed them. */
  async listLines(secTag?: number): Promise<string[]> {
    const r = await this.#at.commandOk(secTag === undefined ? 'AT%CMNG=1' : `AT%CMNG=1,${secTag}`, {
      timeoutMs: this.#timeoutMs,
    });
    return r.lines.filter((l) => l.startsWith('%CMNG:'));
  }

  /** AT%CMNG=2: the stored content when the modem lets it be read (root CAs; keys never). */
  async read(secTag: number, type: CmngType): Promise<string | null> {
    const r = await this.#at.command(`AT%CMNG=2,${secTag},${type}`, {
      timeoutMs: this.#timeoutMs,
      retries: TRANSIENT_RETRIES,
    });
    if (!r.ok) return null;
    // `%CMNG: <tag>,<type>,"<sha>","<content>"`; the content spans lines.
    const m = /^%CMNG: \d+,\s*\d+,\s*"[0-9A-Fa-f]*",\s*"([\s\S]*)"$/.exec(r.lines.join('\r\n'));
    return m?.[1] ?? null;
  }

  async write(secTag: number, type: CmngType, pem: string): Promise<void> {
    this.#guard(secTag);
    await this.#at.commandOk(`AT%CMNG=0,${secTag},${type},"${toCmngContent(pem)}"`, {
      timeoutMs: this.#timeoutMs,
    });
  }

  async delete(secTag: number, type: CmngType): Promise<void> {
    const final = await this.deleteRaw(secTag, type);
    // 513: not found — already gone is what a delete wants.
    if (final !== 'OK' && final !== '+CME ERROR: 513')
      throw new AtCommandError(`AT%CMNG=3,${secTag},${type}`, final);
  }

  /** AT%CMNG=3 on an owned sec_tag; resolves with the modem's final answer, whatever it is. */
  async deleteRaw(secTag: number, type: CmngType): Promise<string> {
    this.#guard(secTag);
    return (await this.#at.command(`AT%CMNG=3,${secTag},${type}`, { timeoutMs: this.#timeoutMs })).final;
  }
}
