/**
 * Builds the whole certificate catalogue (every entry and its twin) twice: cold, with an empty
 * key cache in a temporary directory, then warm, with a fresh process-level cache over the same
 * directory (keys read from disk, nothing generated). Prints figures, asserts nothing.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildPki } from '../certs/build.ts';
import { CATALOGUE } from '../certs/catalogue/index.ts';
import { KeyCache } from '../certs/keys.ts';

/** A fixed device clock, so both runs issue the same validity windows. */
const CLOCK = new Date('2026-06-01T00:00:00Z');

async function buildAll(keys: KeyCache): Promise<{ seconds: number; certificates: number }> {
  const started = performance.now();
  const built = await Promise.all(
    CATALOGUE.flatMap((entry) => [entry.spec, entry.twin]).map((spec) =>
      buildPki(spec, { clock: CLOCK, keys }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  return { seconds, certificates: built.reduce((n, h) => n + h.certs.size, 0) };
}

const dir = await mkdtemp(join(tmpdir(), 'trustlab-bench-keys-'));
try {
  const cold = await buildAll(new KeyCache(dir));
  const keyFiles = (await readdir(dir)).length;
  const warm = await buildAll(new KeyCache(dir));
  console.log(
    `catalogue: ${CATALOGUE.length} entries, ${CATALOGUE.length * 2} hierarchies, ${cold.certificates} certificates, ${keyFiles} distinct keys`,
  );
  console.log(
    `pki: cases=${CATALOGUE.length} cold_s=${cold.seconds.toFixed(2)} warm_s=${warm.seconds.toFixed(2)}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
