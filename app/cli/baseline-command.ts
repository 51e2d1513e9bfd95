import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { updateBaseline } from '../../reports/baseline.ts';

/** Baselines live in the repository, one folder per model and firmware. */
export const DEFAULT_BASELINES = fileURLToPath(new URL('../../baselines/', import.meta.url));

/** `trustlab baseline update <run>`: make a run the reference for its model and firmware. */
export function baselineUpdateCommand(run: string, options: { dir?: string }): number {
  try {
    const { dir, cases } = updateBaseline(resolve(run), resolve(options.dir ?? DEFAULT_BASELINES));
    console.log(`baseline: ${cases} cases written to ${dir}`);
    return 0;
  } catch (error) {
    console.error(`trustlab baseline: ${(error as Error).message}`);
    return 2;
  }
}
