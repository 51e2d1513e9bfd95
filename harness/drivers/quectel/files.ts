import { type AtEngine, TRANSIENT_RETRIES } from '../../at/engine.ts';
import { AtCommandError } from '../../at/errors.ts';
import { qfuplChecksum } from './checksum.ts';

/** One file as AT+QFLST lists it. */
export interface ListedFile {
  readonly name: string;
  readonly size: number;
}

export interface QuectelFileTimeouts {
  readonly basic: number;
  /** Seconds the module waits for the upload's bytes (the third AT+QFUPL argument). */
  readonly uploadTimeoutS: number;
}

/** A file name the harness refused to touch because it does not carry the owned prefix. */
export class NotOwnedError extends Error {
  constructor(name: string, prefix: string) {
    super(`refusing to touch ${name}: the harness only owns files named ${prefix}*`);
    this.name = 'NotOwnedError';
  }
}

const bare = (name: string) => name.replace(/^UFS:/i, '');

/**
 * The module's UFS, seen through QFLST/QFUPL/QFDEL/QFLDS, with every write and delete confined to
 * names under the owned prefix. It lists before it writes.
 */
export class QuectelFiles {
  readonly #at: AtEngine;
  readonly #prefix: string;
  readonly #t: QuectelFileTimeouts;

  constructor(at: AtEngine, prefix: string, timeouts: QuectelFileTimeouts) {
    if (!/^[A-Za-z0-9_.-]+$/.test(prefix))
      throw new Error(`owned file prefix ${JSON.stringify(prefix)} is not a plain name`);
    this.#at = at;
    this.#prefix = prefix;
    this.#t = timeouts;
  }

  /** `UFS:<prefix><name>` for a name the harness owns. */
  ownedPath(name: string): string {
    return `UFS:${this.#prefix}${name}`;
  }

  owns(path: string): boolean {
    return bare(path).startsWith(this.#prefix) && !bare(path).includes('*');
  }

  async list(): Promise<ListedFile[]> {
    const r = await this.#at.commandOk('AT+QFLST="*"', {
      timeoutMs: this.#t.basic,
      retries: TRANSIENT_RETRIES,
    });
    return r.lines.flatMap((l) => {
      const m = /^\+QFLST: "([^"]*)",(\d+)/.exec(l);
      return m ? [{ name: bare(m[1] ?? ''), size: Number(m[2]) }] : [];
    });
  }

  /** Free and total bytes (AT+QFLDS="UFS"), or null when the module does not answer it. */
  async space(): Promise<{ free: number; total: number } | null> {
    const r = await this.#at.command('AT+QFLDS="UFS"', { timeoutMs: this.#t.basic });
    const m = /^\+QFLDS: (\d+),(\d+)/.exec(r.lines[0] ?? '');
    return r.ok && m ? { free: Number(m[1]), total: Number(m[2]) } : null;
  }

  async delete(path: string): Promise<void> {
    if (!this.owns(path)) throw new NotOwnedError(path, this.#prefix);
    await this.#at.commandOk(`AT+QFDEL="${path}"`, { timeoutMs: this.#t.basic, retries: TRANSIENT_RETRIES });
  }

  /**
   * Uploads `content` as an owned file, replacing an earlier file of ours with the same name (a
   * leftover of an interrupted run), and checks the module's length and XOR checksum against ours.
   */
  async upload(
    path: string,
    content: Buffer,
    known?: { readonly present: true; readonly size: number },
  ): Promise<void> {
    if (!this.owns(path)) throw new NotOwnedError(path, this.#prefix);
    // A file of ours the caller knows is there (it uploaded it) is replaced without listing, and
    // needs no space check when it is no larger than the one it replaces.
    if (known?.present) {
      await this.delete(path);
    } else {
      const existing = await this.list();
      if (existing.some((f) => f.name === bare(path))) await this.delete(path);
    }
    const space = known && content.length <= known.size ? null : await this.space();
    if (space && space.free < content.length) {
      throw new Error(`upload of ${path}: ${content.length} bytes do not fit in ${space.free} free bytes`);
    }
    const up = await this.#at.commandWithData(
      `AT+QFUPL="${path}",${content.length},${this.#t.uploadTimeoutS}`,
      content,
      { prompt: 'CONNECT', timeoutMs: this.#t.uploadTimeoutS * 1000 + this.#t.basic },
    );
    if (!up.ok) throw new AtCommandError('AT+QFUPL', up.final);
    const reported = up.lines.find((l) => l.startsWith('+QFUPL:'));
    const m = /^\+QFUPL: (\d+),([0-9a-f]+)$/i.exec(reported ?? '');
    const expected = qfuplChecksum(content);
    // Compare as numbers: modules differ in hex case and leading zeros.
    if (
      Number(m?.[1]) !== content.length ||
      Number.parseInt(m?.[2] ?? '', 16) !== Number.parseInt(expected, 16)
    ) {
      throw new Error(
        `upload of ${path} corrupted: device reported ${reported ?? 'nothing'}, expected +QFUPL: ${content.length},${expected}`,
      );
    }
  }
}
