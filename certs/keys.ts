import { createHash, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import type { KeyType } from './spec.ts';

/** A key pair as Node KeyObjects (signing) plus its parsed SubjectPublicKeyInfo (issuing). */
export interface KeyMaterial {
  readonly keyType: KeyType;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly spki: SubjectPublicKeyInfo;
  readonly pkcs8Der: Buffer;
  /** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits, hex; SKI and AKI both use it. */
  readonly keyId: string;
}

/** Bump when the way keys are generated changes, so old cache entries are not reused. */
const CACHE_VERSION = 'v1';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The on-disk key cache: TRUSTLAB_KEY_CACHE, else `.cache/keys/` in the repository (git-ignored). */
export function defaultKeyCacheDir(): string {
  return process.env.TRUSTLAB_KEY_CACHE ?? join(REPO_ROOT, '.cache', 'keys');
}

export function isRsa(keyType: KeyType): boolean {
  return keyType.startsWith('rsa');
}

/** The hash a key type signs with unless a certificate asks for another. */
export function defaultHash(keyType: KeyType): 'SHA-256' | 'SHA-384' | 'SHA-512' {
  if (keyType === 'p384') return 'SHA-384';
  return keyType === 'p521' ? 'SHA-512' : 'SHA-256';
}

const CURVES: Partial<Record<KeyType, string>> = { p256: 'P-256', p384: 'P-384', p521: 'P-521' };

/** Native key generation (OpenSSL in the libuv pool): never pure-JS RSA. */
function generatePkcs8(keyType: KeyType): Promise<Buffer> {
  return new Promise((done, fail) => {
    const encoding = {
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    } as const;
    const callback = (err: Error | null, _pub: Buffer, priv: Buffer) => (err ? fail(err) : done(priv));
    if (isRsa(keyType)) {
      const modulusLength = Number(keyType.slice(3));
      generateKeyPair('rsa', { modulusLength, publicExponent: 0x10001, ...encoding }, callback);
    } else if (keyType === 'ed25519') {
      generateKeyPair('ed25519', encoding, callback);
    } else {
      generateKeyPair('ec', { namedCurve: CURVES[keyType] ?? 'P-256', ...encoding }, callback);
    }
  });
}

function materialFrom(keyType: KeyType, pkcs8Der: Buffer): KeyMaterial {
  const privateKey = createPrivateKey({ key: pkcs8Der, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const spki = AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
  const keyId = createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest('hex');
  return { keyType, privateKey, publicKey, spki, pkcs8Der, keyId };
}

/** Reads a cached key, or generates one and publishes it atomically (first writer wins). */
async function loadOrGenerate(dir: string | null, keyType: KeyType, slot: string): Promise<Buffer> {
  if (dir === null) return generatePkcs8(keyType);
  const id = createHash('sha256').update(`${CACHE_VERSION}\0${keyType}\0${slot}`).digest('hex');
  const file = join(dir, `${keyType}-${id.slice(0, 24)}.pk8`);
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const der = await generatePkcs8(keyType);
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, der);
  try {
    // link() fails if another process published first; then its key is the one everybody uses.
    await link(tmp, file);
    return der;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFile(file);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Keys by (key type, slot). A slot is a role in a hierarchy ('root', 'ica1', 'leaf', …), so all
 * cases share a handful of keys: a key is never what a case tests (key-size defects use another
 * key type, hence another entry), and sharing keeps a cold catalogue build to a few RSA keys.
 */
export class KeyCache {
  readonly #dir: string | null;
  readonly #memory = new Map<string, Promise<KeyMaterial>>();

  /** `dir` null keeps keys in memory only. */
  constructor(dir: string | null = defaultKeyCacheDir()) {
    this.#dir = dir;
  }

  get dir(): string | null {
    return this.#dir;
  }

  get(keyType: KeyType, slot: string): Promise<KeyMaterial> {
    const key = `${keyType}\0${slot}`;
    let entry = this.#memory.get(key);
    if (!entry) {
      entry = loadOrGenerate(this.#dir, keyType, slot).then((der) => materialFrom(keyType, der));
      // A failed generation must not poison the cache for the next caller.
      entry.catch(() => this.#memory.delete(key));
      this.#memory.set(key, entry);
    }
    return entry;
  }
}

let shared: KeyCache | undefined;

/** The process-wide cache over the default directory. */
export function sharedKeyCache(): KeyCache {
  shared ??= new KeyCache();
  return shared;
}
