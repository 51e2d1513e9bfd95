import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readContractFile } from '../contract.ts';
import { isQuestionId, QUESTIONS, type QuestionId, questionIdOfText } from './questions.ts';

export const TRUST_MODEL_FILE = 'trust-model.json';

/** One inferred answer about the device's trust-anchor model (written by suites/ as trust-model.json). */
export interface TrustModelAnswer {
  /** Stable: diffs, baselines and merges key on it. */
  readonly id: QuestionId;
  /** The question in English, for people; may be reworded without changing any diff. */
  readonly question: string;
  /** `not-applicable`: the device has no way to be asked (a switch its dialect lacks); the detail says which. */
  readonly answer: 'yes' | 'no' | 'unknown' | 'not-applicable';
  /** Case ids whose evidence the answer rests on. */
  readonly cases: readonly string[];
  readonly detail?: string;
}

const ANSWERS = ['yes', 'no', 'unknown', 'not-applicable'] as const;

/** One answer under its stable id, its cases deduplicated: how the suite builds every answer. */
export function trustModelAnswer(
  id: QuestionId,
  answer: TrustModelAnswer['answer'],
  cases: readonly string[],
  detail: string,
): TrustModelAnswer {
  return { id, question: QUESTIONS[id], answer, cases: [...new Set(cases)], detail };
}

/**
 * One answer as read back. A file from before question ids (keyed by text) is migrated through the
 * text it carries; a text this harness does not know cannot be keyed and is refused by name.
 */
export function parseTrustModelAnswer(entry: unknown, where: string): TrustModelAnswer {
  const e = (entry ?? {}) as Partial<Record<keyof TrustModelAnswer, unknown>>;
  if (typeof e.answer !== 'string' || !(ANSWERS as readonly string[]).includes(e.answer)) {
    throw new Error(
      `${where}: answer must be one of ${ANSWERS.join(', ')} (found ${JSON.stringify(e.answer)})`,
    );
  }
  let id: QuestionId | null = null;
  if (typeof e.id === 'string') {
    if (!isQuestionId(e.id)) throw new Error(`${where}: unknown question id ${JSON.stringify(e.id)}`);
    id = e.id;
  } else if (typeof e.question === 'string') {
    id = questionIdOfText(e.question);
    if (!id)
      throw new Error(
        `${where}: written before question ids, and its question ${JSON.stringify(e.question)} is not one this harness asks; re-run the suite (or \`trustlab merge\`) to rewrite it`,
      );
  } else {
    throw new Error(`${where}: needs an id (or, from an older harness, a question)`);
  }
  return {
    id,
    question: QUESTIONS[id],
    answer: e.answer as TrustModelAnswer['answer'],
    cases: Array.isArray(e.cases) ? e.cases.map(String) : [],
    ...(typeof e.detail === 'string' ? { detail: e.detail } : {}),
  };
}

/** The run's inferred trust model, or null when the suite did not infer one. Malformed entries are an error. */
export function readTrustModel(outDir: string): TrustModelAnswer[] | null {
  const file = join(outDir, TRUST_MODEL_FILE);
  if (!existsSync(file)) return null;
  const data = readContractFile(file, 'trust-model') as unknown[];
  return data.map((entry, i) => parseTrustModelAnswer(entry, `${file}: entry ${i}`));
}
