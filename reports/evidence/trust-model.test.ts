import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUESTIONS } from './questions.ts';
import { readTrustModel, TRUST_MODEL_FILE } from './trust-model.ts';

const runWith = (content: unknown) => {
  const dir = mkdtempSync(join(tmpdir(), 'trustlab-tm-'));
  writeFileSync(join(dir, TRUST_MODEL_FILE), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
};

describe('trust-model.json read back', () => {
  it('keys each answer by its stable id; the text comes from the catalogue', () => {
    const dir = runWith([
      { id: 'root.v1.accepted', question: 'old wording', answer: 'yes', cases: ['anchors::v1-root'] },
    ]);
    expect(readTrustModel(dir)).toEqual([
      {
        id: 'root.v1.accepted',
        question: QUESTIONS['root.v1.accepted'],
        answer: 'yes',
        cases: ['anchors::v1-root'],
      },
    ]);
  });

  it('migrates a file from before question ids through its text', () => {
    const dir = runWith([
      { question: 'Accepts a root without BasicConstraints?', answer: 'not-applicable', cases: [] },
    ]);
    expect(readTrustModel(dir)?.[0]?.id).toBe('root.without-basic-constraints.accepted');
  });

  it('refuses, by name, a text it cannot key, an unknown id, a bad answer and a file that is not JSON', () => {
    expect(() => readTrustModel(runWith([{ question: 'Is it blue?', answer: 'yes' }]))).toThrow(
      /entry 0: written before question ids, and its question "Is it blue\?" is not one this harness asks/,
    );
    expect(() => readTrustModel(runWith([{ id: 'root.purple', answer: 'yes' }]))).toThrow(
      /entry 0: unknown question id "root.purple"/,
    );
    expect(() => readTrustModel(runWith([{ id: 'root.v1.accepted', answer: 'maybe' }]))).toThrow(
      /not a TrustLab trust-model file: \/0\/answer: "maybe" is not one of yes, no, unknown, not-applicable/,
    );
    expect(() => readTrustModel(runWith('[{"id": '))).toThrow(/trust-model.json: not JSON/);
  });
});
