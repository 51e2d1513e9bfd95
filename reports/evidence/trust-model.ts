import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const TRUST_MODEL_FILE = 'trust-model.json';

/** One inferred answer about the device's trust-anchor model (written by suites/ as trust-model.json). */
export interface TrustModelAnswer {
  readonly question: string;
  /** `not-applicable`: the device has no way to be asked (a switch its dialect lacks); the detail says which. */
  readonly answer: 'yes' | 'no' | 'unknown' | 'not-applicable';
  /** Case ids whose evidence the answer rests on. */
  readonly cases: readonly string[];
  readonly detail?: string;
}

/** The run's inferred trust model, or null when the suite did not infer one. Malformed entries are an error. */
export function readTrustModel(outDir: string): TrustModelAnswer[] | null {
  const file = join(outDir, TRUST_MODEL_FILE);
  if (!existsSync(file)) return null;
  const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(data)) throw new Error(`${file}: expected an array of answers`);
  return data.map((entry, i) => {
    const e = entry as Partial<TrustModelAnswer>;
    if (
      typeof e.question !== 'string' ||
      !['yes', 'no', 'unknown', 'not-applicable'].includes(e.answer ?? '')
    ) {
      throw new Error(
        `${file}: entry ${i} needs a question and an answer of yes, no, unknown or not-applicable`,
      );
    }
    return {
      question: e.question,
      answer: e.answer as TrustModelAnswer['answer'],
      cases: Array.isArray(e.cases) ? e.cases.map(String) : [],
      ...(typeof e.detail === 'string' ? { detail: e.detail } : {}),
    };
  });
}
