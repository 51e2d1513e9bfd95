import type { QuestionId } from './questions.ts';
import { QUESTIONS } from './questions.ts';
import type { TrustModelAnswer } from './trust-model.ts';

/** One run's trust model, under the label it is shown with (device, family or firmware). */
export interface LabelledModel {
  readonly label: string;
  readonly answers: readonly TrustModelAnswer[];
}

/** A question whose answers differ between runs, with each run's answer and the reason it gives. */
export interface ComparedQuestion {
  readonly id: QuestionId;
  readonly question: string;
  readonly answers: readonly { readonly label: string; readonly answer: string; readonly why: string }[];
}

export interface TrustModelComparison {
  readonly labels: readonly string[];
  readonly differing: readonly ComparedQuestion[];
  /** Questions every run answered the same way. */
  readonly same: number;
}

/**
 * Puts several runs' trust models side by side, question by question (keyed by id, so a reworded
 * question still lines up), and keeps the questions whose answers differ with the detail each run
 * gives. A question one run did not ask at all shows as `absent`.
 */
export function compareTrustModels(models: readonly LabelledModel[]): TrustModelComparison {
  const ids = [...new Set(models.flatMap((m) => m.answers.map((a) => a.id)))];
  const differing: ComparedQuestion[] = [];
  let same = 0;
  for (const id of ids) {
    const answers = models.map((m) => {
      const a = m.answers.find((x) => x.id === id);
      return { label: m.label, answer: a?.answer ?? 'absent', why: a?.detail ?? '' };
    });
    if (new Set(answers.map((a) => a.answer)).size === 1) same++;
    else differing.push({ id, question: QUESTIONS[id], answers });
  }
  return { labels: models.map((m) => m.label), differing, same };
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The comparison as Markdown: one row per differing question, each answer with its reason. */
export function renderComparisonMarkdown(c: TrustModelComparison): string {
  const lines = [
    '# Trust models compared',
    '',
    `${c.differing.length} question(s) answered differently; ${c.same} answered the same by ${c.labels.join(', ')}.`,
    '',
  ];
  if (c.differing.length === 0) return `${lines.join('\n')}\n`;
  lines.push(
    `| question | ${c.labels.map(cell).join(' | ')} |`,
    `|---|${c.labels.map(() => '---').join('|')}|`,
  );
  for (const q of c.differing) {
    const answers = q.answers.map((a) => cell(a.why ? `**${a.answer}**: ${a.why}` : `**${a.answer}**`));
    lines.push(`| ${cell(q.question)} (\`${q.id}\`) | ${answers.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
