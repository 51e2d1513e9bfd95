/**
 * `npm run bench:limbo`: the pinned x509-limbo suite run through `trustlab limbo`'s own code on the
 * zero-latency virtual Quectel modem, wall time from device open to the last record. Prints
 *   limbo: cases=<run> skipped=<n> seconds=<s> per_s=<x> engine=<e>
 * `cases` counts the cases run on the device (accepted or rejected, each with a server observation);
 * per_s is those over the seconds. Target: per_s ≥ 5. TRUSTLAB_BENCH_ENGINE picks the engine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FAMILY } from '../harness/families.ts';
import type { TlsEngineId } from '../harness/virtual-modem/tls/engine.ts';
import { runLimbo, sha256File } from '../suites/limbo/limbo-run.ts';
import { PINNED_LIMBO } from '../suites/limbo/limbo-suite.ts';

const engine = process.env.TRUSTLAB_BENCH_ENGINE as TlsEngineId | undefined;
const outDir = mkdtempSync(join(tmpdir(), 'trustlab-bench-limbo-'));
try {
  const started = performance.now();
  const result = await runLimbo(
    {
      driver: DEFAULT_FAMILY,
      lab: { dialHost: '127.0.0.1', listenHost: '127.0.0.1' },
      limboFile: PINNED_LIMBO,
      limboSha256: sha256File(PINNED_LIMBO),
      ...(engine ? { engine } : {}),
    },
    outDir,
    'bench',
  );
  const seconds = (performance.now() - started) / 1000;
  const ran = result.records.filter((r) => r.outcome === 'accepted' || r.outcome === 'rejected').length;
  const skipped = result.records.length - ran;
  console.log(
    `limbo: cases=${ran} skipped=${skipped} seconds=${seconds.toFixed(1)} per_s=${(ran / seconds).toFixed(1)} engine=${result.engine}`,
  );
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
