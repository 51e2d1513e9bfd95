import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compareTrustModels, renderComparisonMarkdown } from '../../reports/evidence/compare.ts';
import { readTrustModel } from '../../reports/evidence/trust-model.ts';
import { readRunManifest } from '../../reports/run-manifest.ts';

export interface CompareOptions {
  readonly markdown?: string;
  readonly json?: boolean;
}

/** A run's label: the device it ran on and its model and firmware, as run.json recorded them. */
function labelOf(dir: string): string {
  const m = readRunManifest(dir);
  const id = m?.identity;
  return [m?.device ?? dir, id ? `${id.model} ${id.firmware}` : null].filter(Boolean).join(' — ');
}

/**
 * `trustlab compare <run> <run>…`: the trust models of several runs side by side (modem families,
 * second sources, firmware), the questions where they differ and the reason each gives. Exit 0
 * when all agree, 1 when any question differs, 2 when a run cannot be read.
 */
export function compareCommand(dirs: readonly string[], options: CompareOptions): number {
  let models: { label: string; answers: NonNullable<ReturnType<typeof readTrustModel>> }[];
  try {
    if (dirs.length < 2) throw new Error('give at least two run folders');
    models = dirs.map((d) => {
      const dir = resolve(d);
      const answers = readTrustModel(dir);
      if (!answers) throw new Error(`${dir} has no trust-model.json (is it a finished run folder?)`);
      return { label: labelOf(dir), answers };
    });
  } catch (error) {
    console.error(`trustlab compare: ${(error as Error).message}`);
    return 2;
  }
  const comparison = compareTrustModels(models);
  const markdown = renderComparisonMarkdown(comparison);
  if (options.markdown) writeFileSync(options.markdown, markdown);
  process.stdout.write(options.json ? `${JSON.stringify(comparison)}\n` : markdown);
  return comparison.differing.length > 0 ? 1 : 0;
}
