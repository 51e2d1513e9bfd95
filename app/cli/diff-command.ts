import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type BehaviourSet, loadBehaviour } from '../../reports/behaviour.ts';
import { diffBehaviour, hasChanges, renderDiffMarkdown } from '../../reports/diff.ts';
import { renderDiffHtml } from '../../reports/diff-html.ts';
import { printable } from '../../reports/printable.ts';

export interface DiffOptions {
  /** Also write the Markdown to this file (for a merge-request comment). */
  readonly markdown?: string;
  /** Also write the diff as one self-contained HTML page to this file. */
  readonly html?: string;
  readonly json?: boolean;
}

/**
 * `trustlab diff <baseline> <run>`: behaviour changes between two runs or a baseline and a run.
 * Exit 0 when nothing changed, 1 when something did, 2 when an input cannot be read.
 */
export function diffCommand(baseline: string, candidate: string, options: DiffOptions): number {
  let diff: ReturnType<typeof diffBehaviour>;
  let sets: { baseline: BehaviourSet; candidate: BehaviourSet };
  try {
    sets = { baseline: loadBehaviour(resolve(baseline)), candidate: loadBehaviour(resolve(candidate)) };
    diff = diffBehaviour(sets.baseline, sets.candidate);
  } catch (error) {
    console.error(`trustlab diff: ${(error as Error).message}`);
    return 2;
  }
  const markdown = renderDiffMarkdown(diff);
  if (options.markdown) writeFileSync(options.markdown, markdown);
  if (options.html) {
    const page = resolve(options.html);
    writeFileSync(page, printable(renderDiffHtml(diff, sets, page)));
    if (!options.json) console.error(`diff page: ${page}`);
  }
  process.stdout.write(options.json ? `${JSON.stringify(diff)}\n` : markdown);
  return hasChanges(diff) ? 1 : 0;
}
