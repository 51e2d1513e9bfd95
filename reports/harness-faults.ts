import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestCase } from 'vitest/node';
import { readContractFile } from './contract.ts';

/**
 * The cases whose harness consistency checks failed in the last session (case id → message):
 * a fault of the harness or the lab, kept apart from the device's findings in every dashboard.
 * A resume re-checks every recorded case, so each session's file is complete on its own.
 */
export const HARNESS_FAULTS_FILE = 'harness-faults.json';

export function writeHarnessFaults(outDir: string, faults: ReadonlyMap<string, string>): void {
  writeFileSync(
    join(outDir, HARNESS_FAULTS_FILE),
    `${JSON.stringify(Object.fromEntries(faults), null, 2)}\n`,
  );
}

/** The recorded faults; an absent file means none were recorded. A malformed file is an error. */
export function readHarnessFaults(outDir: string): Map<string, string> {
  const file = join(outDir, HARNESS_FAULTS_FILE);
  if (!existsSync(file)) return new Map();
  const data = readContractFile(file, 'harness-faults') as Record<string, string>;
  return new Map(Object.entries(data));
}

/**
 * A vitest reporter (in the CLI process) that keeps the suite's failed consistency checks by case
 * id. The suite's tests assert that both ends' evidence agrees with the outcome; a device finding
 * never fails them, so a failure here is the harness's or the lab's.
 */
export class HarnessCheckReporter implements Reporter {
  readonly faults = new Map<string, string>();

  onTestCaseResult(testCase: TestCase): void {
    const result = testCase.result();
    if (result.state !== 'failed') return;
    const message = result.errors?.map((e) => e.message).join('; ') || 'the consistency check failed';
    this.faults.set(testCase.name, message.split('\n')[0] ?? message);
  }
}
