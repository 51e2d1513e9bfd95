import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  BASELINE_META_FILE,
  type BaselineMeta,
  BEHAVIOUR_FILE,
  type BehaviourSet,
  loadBehaviour,
} from './behaviour.ts';
import { TRUST_MODEL_FILE } from './evidence/trust-model.ts';
import { readRunManifest } from './run-manifest.ts';

/** A path segment from a model or firmware name (firmware strings carry dots, underscores, slashes). */
export const pathSegment = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');

export function baselineDir(root: string, model: string, firmware: string): string {
  return join(root, pathSegment(model), pathSegment(firmware));
}

/**
 * Stores a run's behaviour as the baseline of its model and firmware: behaviour.jsonl (one case
 * per line, sorted, nothing that varies run to run, so the baseline's own git diff reads well),
 * the trust model when the run inferred one, and where it came from.
 */
export function updateBaseline(runDir: string, root: string): { dir: string; cases: number } {
  const set = loadBehaviour(runDir);
  if (set.cases.size === 0) throw new Error(`${runDir} recorded no case; nothing to baseline`);
  const incomplete = [...set.cases.values()].filter((c) => c.outcome === 'blocked').map((c) => c.case);
  if (incomplete.length > 0) {
    throw new Error(`${runDir} has blocked cases (${incomplete.join(', ')}); resume it before baselining`);
  }
  const identity = readRunManifest(runDir)?.identity;
  if (identity?.reliable === false || set.model === 'unknown' || set.firmware === 'unknown') {
    throw new Error(
      `${runDir}: the device identity is unreliable (model ${set.model}, firmware ${set.firmware}${identity?.raw ? `; answers: ${identity.raw}` : ''}); a baseline must be filed under the real model and firmware, so run again once the module answers ATI / AT+CGMR cleanly`,
    );
  }
  const dir = baselineDir(root, set.model, set.firmware);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const lines = [...set.cases.values()]
    .sort((a, b) => a.case.localeCompare(b.case))
    .map((c) => JSON.stringify(c));
  writeFileSync(join(dir, BEHAVIOUR_FILE), `${lines.join('\n')}\n`);
  const manifest = readRunManifest(runDir);
  const meta: BaselineMeta = {
    model: set.model,
    firmware: set.firmware,
    catalogueRevision: set.catalogueRevision,
    harnessCommit: manifest?.harness?.commit ?? null,
    fromRun: basename(runDir), // the folder name: absolute paths of a lab host mean nothing in the repo
    device: manifest?.device ?? null,
  };
  writeFileSync(join(dir, BASELINE_META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
  if (existsSync(join(runDir, TRUST_MODEL_FILE))) {
    copyFileSync(join(runDir, TRUST_MODEL_FILE), join(dir, TRUST_MODEL_FILE));
  }
  return { dir, cases: lines.length };
}

/** The baseline stored under `root` for a model and firmware, loaded, or null when there is none. */
export function storedBaseline(
  root: string,
  model: string,
  firmware: string,
): { readonly set: BehaviourSet; readonly source: string } | null {
  const dir = baselineDir(root, model, firmware);
  return existsSync(join(dir, BEHAVIOUR_FILE)) ? { set: loadBehaviour(dir), source: dir } : null;
}
