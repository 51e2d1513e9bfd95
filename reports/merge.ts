import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readHarnessFaults, writeHarnessFaults } from './harness-faults.ts';
import type { CaseRecord } from './record.ts';
import { appendRecord, latestPerCase, RESULTS_FILE, readRecords } from './results-log.ts';
import { isSettled } from './resume.ts';
import { type RunManifest, readRunManifest, writeRunManifest } from './run-manifest.ts';

function copyRunFile(fromDir: string, toDir: string, relative: string | null | undefined): void {
  if (!relative) return;
  const source = join(fromDir, relative);
  if (!existsSync(source)) return;
  mkdirSync(dirname(join(toDir, relative)), { recursive: true });
  copyFileSync(source, join(toDir, relative));
}

/**
 * Merges shard runs of one model and firmware into one run folder: each case once (the first shard
 * that recorded it; the sanity case runs in every shard), its transcript and PEM bundle, its harness
 * consistency-check fault if any, and a run.json naming the sources. Shards of different models, firmware or catalogue
 * revisions are refused: their union would document no single device.
 */
export function mergeRuns(
  runDirs: readonly string[],
  outDir: string,
): { records: CaseRecord[]; manifest: RunManifest } {
  if (runDirs.length === 0) throw new Error('merge needs at least one run folder');
  const sources = runDirs.map((dir) => {
    const manifest = readRunManifest(dir);
    if (!manifest || !existsSync(join(dir, RESULTS_FILE))) throw new Error(`${dir} is not a run folder`);
    return { dir: resolve(dir), manifest, records: latestPerCase(readRecords(join(dir, RESULTS_FILE))) };
  });
  const first = sources[0]?.manifest as RunManifest;
  for (const s of sources) {
    for (const [what, a, b] of [
      ['model', first.identity?.model, s.manifest.identity?.model],
      ['firmware', first.identity?.firmware, s.manifest.identity?.firmware],
      ['catalogue revision', first.catalogue?.revision, s.manifest.catalogue?.revision],
    ] as const) {
      if (a !== b)
        throw new Error(`cannot merge ${s.dir}: its ${what} is ${b}, not ${a} like ${sources[0]?.dir}`);
    }
  }
  if (existsSync(join(outDir, RESULTS_FILE))) throw new Error(`${outDir} already holds a run`);
  mkdirSync(outDir, { recursive: true });

  const seen = new Set<string>();
  const records: CaseRecord[] = [];
  const faults = new Map<string, string>();
  for (const s of sources) {
    const shardFaults = readHarnessFaults(s.dir);
    for (const r of s.records) {
      if (seen.has(r.case)) continue;
      seen.add(r.case);
      copyRunFile(s.dir, outDir, r.transcriptFile);
      copyRunFile(s.dir, outDir, r.pemFile);
      appendRecord(join(outDir, RESULTS_FILE), r);
      records.push(r);
      const fault = shardFaults.get(r.case);
      if (fault) faults.set(r.case, fault);
    }
  }
  // Allure results are written again from the merged records, with the faults of the shard each came from.
  writeHarnessFaults(outDir, faults);
  const planned = [...new Set(sources.flatMap((s) => s.manifest.plannedCases ?? []))];
  const starts = sources.map((s) => s.manifest.startedAt).filter((t): t is string => Boolean(t));
  const ends = sources.map((s) => s.manifest.endedAt).filter((t): t is string => Boolean(t));
  const done = new Set(records.filter(isSettled).map((r) => r.case));
  const manifest: RunManifest = {
    ...first,
    device: [...new Set(sources.map((s) => s.manifest.device).filter(Boolean))].join(', '),
    startedAt: starts.sort()[0],
    endedAt: ends.sort().at(-1) ?? null,
    status: planned.every((id) => done.has(id)) ? 'complete' : 'incomplete',
    plannedCases: planned,
    sessions: sources.flatMap((s) => s.manifest.sessions ?? []),
    mergedFrom: sources.map((s) => ({
      dir: s.dir,
      ...(s.manifest.device ? { device: s.manifest.device } : {}),
      ...(s.manifest.settings?.shard
        ? {
            shard: `${(s.manifest.settings.shard as { index: number }).index}/${(s.manifest.settings.shard as { count: number }).count}`,
          }
        : {}),
    })),
  };
  writeRunManifest(outDir, manifest);
  // No trust-model.json is copied: it rests on every case, so the caller infers it over the union.
  return { records, manifest };
}
