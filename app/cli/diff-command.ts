import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadBehaviour } from '../../reports/behaviour.ts';
import { diffBehaviour, hasChanges, renderDiffMarkdown } from '../../reports/diff.ts';

export interface DiffOptions {
  /** Also write the Markdown to this file (for a merge-request comment). */
  readonly markdown?: string;
  readonly json?: boolean;
}

/**
 * `trustlab diff <baseline> <run>`: behaviour changes between two runs or a baseline and a run.
 * Exit 0 when nothing changed, 1 when something did, 2 when an input cannot be read.
 */
export function diffCommand(baseline: string, candidate: string, options: DiffOptions): number {
  let diff: ReturnType<typeof diffBehaviour>;
  try {
    diff = diffBehaviour(loadBehaviour(resolve(baseline)), loadBehaviour(resolve(candidate)));
  } catch (error) {
    console.error(`trustlab diff: ${(error as Error).message}`);
    return 2;
  }
  const markdown = renderDiffMarkdown(diff);
  if (options.markdown) writeFileSync(options.markdown, markdown);
  process.stdout.write(options.json ? `${JSON.stringify(diff)}\n` : markdown);
  return hasChanges(diff) ? 1 : 0;
}
