import { qfuplChecksum } from '../../drivers/quectel/checksum.ts';

/**
 * File error codes. 407 and 405 are the ones public Quectel code handles (Quectel's SDK treats
 * 407 "file exists" as success on upload; LooUQ maps 405 to "not found"); 402 is "read zero byte"
 * (same SDK); 403 "drive full" is from the BG96 FILE manual's table. Other 4xx values are opaque.
 */
export const UFS_ERRORS = { zeroBytes: 402, driveFull: 403, notFound: 405, exists: 407 } as const;

/** 3GPP TS 27.007 "incorrect parameters". */
export const CME_INCORRECT_PARAMETERS = 50;

const NAME_LIMIT = 80;
export const UFS_CAPACITY = 2 * 1024 * 1024;

export const stripUfs = (name: string) => name.replace(/^UFS:/i, '');

/** The module's user file system: survives reboots, never touched except by commands. */
export class UfsStore {
  readonly #files = new Map<string, Buffer>();
  readonly #capacity: number;

  constructor(initial: Readonly<Record<string, Buffer | string>> = {}, capacity = UFS_CAPACITY) {
    this.#capacity = capacity;
    for (const [name, content] of Object.entries(initial))
      this.#files.set(stripUfs(name), Buffer.from(content));
  }

  entries(): ReadonlyMap<string, Buffer> {
    return this.#files;
  }

  get(path: string): Buffer | undefined {
    return this.#files.get(stripUfs(path));
  }

  used(): number {
    return [...this.#files.values()].reduce((n, b) => n + b.length, 0);
  }

  free(): number {
    return this.#capacity - this.used();
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Files matching a QFLST pattern (`*` wildcard; `UFS:` prefix optional). */
  list(pattern = '*'): [string, Buffer][] {
    const glob = stripUfs(pattern);
    const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replaceAll('*', '.*')}$`);
    return [...this.#files].filter(([name]) => re.test(name));
  }

  /** Checks an upload before CONNECT; returns the CME error or null. */
  checkUpload(path: string, size: number): number | null {
    const name = stripUfs(path);
    if (name === '' || name.length > NAME_LIMIT || !Number.isInteger(size) || size < 1)
      return CME_INCORRECT_PARAMETERS;
    if (this.#files.has(name)) return UFS_ERRORS.exists;
    if (size > this.free()) return UFS_ERRORS.driveFull;
    return null;
  }

  store(path: string, data: Buffer): string {
    this.#files.set(stripUfs(path), data);
    return `+QFUPL: ${data.length},${qfuplChecksum(data)}`;
  }

  delete(path: string): number | null {
    const name = stripUfs(path);
    if (name === '*') {
      this.#files.clear();
      return null;
    }
    return this.#files.delete(name) ? null : UFS_ERRORS.notFound;
  }
}
