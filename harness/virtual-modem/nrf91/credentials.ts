import { createHash } from 'node:crypto';

/**
 * The modem's credential store (AT%CMNG), keyed by sec_tag and type. Error numbers are the modem's
 * (lab-patterns B.4): 513 not found, 514 no access, 515 memory full, 518 not allowed in the
 * active state, 528 power-off warning.
 */
export const CMNG_ERRORS = { notFound: 513, noAccess: 514, memoryFull: 515, activeState: 518 } as const;

/** 0 root CA, 1 client cert, 2 client key, 3 PSK, 4 PSK identity, 5 public key, 6 device identity key… */
export const CMNG_TYPES = { rootCa: 0, clientCert: 1, clientKey: 2 } as const;
const MAX_TYPE = 11;
/** Sec tags above this are reserved for Nordic. */
export const MAX_SEC_TAG = 2147483647;
const CAPACITY_BYTES = 64 * 1024;

export class CredentialStore {
  readonly #items = new Map<string, { tag: number; type: number; content: string }>();

  constructor(initial: readonly { tag: number; type: number; content: string }[] = []) {
    for (const i of initial) this.#items.set(`${i.tag}/${i.type}`, { ...i });
  }

  static validTag(tag: number): boolean {
    return Number.isInteger(tag) && tag >= 0 && tag <= MAX_SEC_TAG;
  }

  static validType(type: number): boolean {
    return Number.isInteger(type) && type >= 0 && type <= MAX_TYPE;
  }

  get(tag: number, type: number): string | null {
    return this.#items.get(`${tag}/${type}`)?.content ?? null;
  }

  /** Writes (or overwrites) one credential; returns an error number or null. */
  write(tag: number, type: number, content: string): number | null {
    // Nordic's own identity credentials (types 10, 11) cannot be written.
    if (type >= 10) return CMNG_ERRORS.noAccess;
    const used = [...this.#items.values()].reduce((n, i) => n + i.content.length, 0);
    if (used + content.length > CAPACITY_BYTES) return CMNG_ERRORS.memoryFull;
    this.#items.set(`${tag}/${type}`, { tag, type, content });
    return null;
  }

  delete(tag: number, type: number): number | null {
    return this.#items.delete(`${tag}/${type}`) ? null : CMNG_ERRORS.notFound;
  }

  /** `%CMNG: <tag>,<type>,"<sha256>"` lines, optionally for one tag (and type). */
  list(tag?: number, type?: number): string[] {
    return [...this.#items.values()]
      .filter((i) => (tag === undefined || i.tag === tag) && (type === undefined || i.type === type))
      .sort((a, b) => a.tag - b.tag || a.type - b.type)
      .map((i) => `%CMNG: ${i.tag},${i.type},"${sha(i.content)}"`);
  }

  /** Read: private keys are never given out. */
  read(tag: number, type: number): { line: string } | { error: number } {
    const content = this.get(tag, type);
    if (content === null) return { error: CMNG_ERRORS.notFound };
    if (type === CMNG_TYPES.clientKey) return { error: CMNG_ERRORS.noAccess };
    return { line: `%CMNG: ${tag},${type},"${sha(content)}","${content}"` };
  }

  entries(): readonly { tag: number; type: number; content: string }[] {
    return [...this.#items.values()];
  }
}

const sha = (content: string) => createHash('sha256').update(content).digest('hex').toUpperCase();
