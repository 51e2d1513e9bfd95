import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { latestPerCase, RESULTS_FILE, readRecords } from './results-log.ts';
import { readStage } from './stage-file.ts';

/** One line of `trustlab run --json`: every event a machine needs, nothing for humans. */
export type ProgressEvent =
  | { event: 'case-start'; device: string; case: string; n: number; total: number; elapsedMs: number }
  | { event: 'stage'; device: string; case: string; stage: string; elapsedMs: number }
  | {
      event: 'case-end';
      device: string;
      case: string;
      n: number;
      total: number;
      outcome: string;
      verdicts: Record<string, string>;
      replayed: boolean;
      durationMs: number;
      elapsedMs: number;
      etaMs: number | null;
    };

export interface ProgressOptions {
  readonly outDir: string;
  readonly device: string;
  /** Cases already in results.jsonl when this session started (replayed, not run). */
  readonly alreadyRecorded: ReadonlySet<string>;
  readonly emit: (event: ProgressEvent) => void;
  /** How often the current stage is polled while a case runs. */
  readonly pollMs?: number;
}

/**
 * A vitest reporter (it runs in the CLI process) that turns the suite's progress into events:
 * case n/N, the AT stage the case is in (from the suite's stage file), elapsed time and an ETA from
 * the mean duration of the cases this session actually ran on the device.
 */
/** Tests skipped when collected (the public-broker probe when not asked for) never run: not cases. */
const isCase = (t: TestCase) => t.options.mode === 'run' || t.options.mode === 'only';

export class ProgressReporter implements Reporter {
  readonly #options: ProgressOptions;
  #total = 0;
  #started = 0;
  readonly #numbers = new Map<string, number>();
  #runStart = Date.now();
  readonly #caseStart = new Map<string, number>();
  readonly #durations: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #lastStage = '';

  constructor(options: ProgressOptions) {
    this.#options = options;
  }

  onTestRunStart(): void {
    this.#runStart = Date.now();
  }

  onTestModuleCollected(module: TestModule): void {
    this.#total += [...module.children.allTests()].filter(isCase).length;
  }

  /**
   * A case's position, fixed the first time either of its events arrives: vitest hands the CLI its
   * events in batches, so under load a case's result can come before its ready.
   */
  #numberOf(testCase: TestCase): number {
    let n = this.#numbers.get(testCase.id);
    if (n === undefined) {
      n = ++this.#started;
      this.#numbers.set(testCase.id, n);
    }
    return n;
  }

  onTestCaseReady(testCase: TestCase): void {
    if (!isCase(testCase)) return;
    const n = this.#numberOf(testCase);
    this.#caseStart.set(testCase.id, Date.now());
    this.#options.emit({
      event: 'case-start',
      device: this.#options.device,
      case: testCase.name,
      n,
      total: this.#total,
      elapsedMs: Date.now() - this.#runStart,
    });
    this.#lastStage = '';
    clearInterval(this.#timer);
    if (!this.#options.alreadyRecorded.has(testCase.name)) {
      this.#timer = setInterval(() => this.#pollStage(testCase.name), this.#options.pollMs ?? 250);
      this.#timer.unref();
    }
  }

  #pollStage(caseId: string): void {
    const note = readStage(this.#options.outDir);
    if (!note || note.case !== caseId || note.stage === this.#lastStage) return;
    this.#lastStage = note.stage;
    this.#options.emit({
      event: 'stage',
      device: this.#options.device,
      case: caseId,
      stage: note.stage,
      elapsedMs: Date.now() - this.#runStart,
    });
  }

  onTestCaseResult(testCase: TestCase): void {
    if (!isCase(testCase)) return;
    clearInterval(this.#timer);
    const replayed = this.#options.alreadyRecorded.has(testCase.name);
    // Measured in the worker: the CLI receives vitest's task events in batches.
    const durationMs = Math.round(
      testCase.diagnostic()?.duration ?? Date.now() - (this.#caseStart.get(testCase.id) ?? Date.now()),
    );
    if (!replayed) this.#durations.push(durationMs);
    const n = this.#numberOf(testCase);
    const record = this.#record(testCase.name);
    const remaining = this.#total - this.#started;
    const mean = this.#durations.length
      ? this.#durations.reduce((a, b) => a + b, 0) / this.#durations.length
      : null;
    this.#options.emit({
      event: 'case-end',
      device: this.#options.device,
      case: testCase.name,
      n,
      total: this.#total,
      outcome: record?.outcome ?? testCase.result().state,
      verdicts: { ...(record?.verdicts ?? {}) },
      replayed,
      durationMs,
      elapsedMs: Date.now() - this.#runStart,
      etaMs: mean === null ? null : Math.round(mean * remaining),
    });
  }

  onTestRunEnd(): void {
    clearInterval(this.#timer);
  }

  #record(caseId: string) {
    const file = join(this.#options.outDir, RESULTS_FILE);
    if (!existsSync(file)) return undefined;
    return latestPerCase(readRecords(file)).find((r) => r.case === caseId);
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Progress for a person: one line per case on stderr; on a terminal, a live stage line too. */
export function humanProgress(stream: NodeJS.WriteStream = process.stderr): (event: ProgressEvent) => void {
  const live = stream.isTTY === true;
  const clear = () => live && stream.write('\r\x1b[2K');
  return (e) => {
    if (e.event === 'case-start' || e.event === 'stage') {
      if (!live) return;
      const what = e.event === 'stage' ? e.stage : 'starting';
      const position = e.event === 'case-start' ? ` ${e.n}/${e.total}` : '';
      clear();
      stream.write(`[${e.device}]${position} ${e.case} · ${what} · elapsed ${seconds(e.elapsedMs)}`);
      return;
    }
    clear();
    const eta = e.etaMs === null ? '' : ` · ETA ${seconds(e.etaMs)}`;
    const how = e.replayed ? 'already recorded' : seconds(e.durationMs);
    stream.write(
      `[${e.device}] case ${e.n}/${e.total} ${e.case}: ${e.outcome} (${how}) · elapsed ${seconds(e.elapsedMs)}${eta}\n`,
    );
  };
}

/** Progress for a machine: one JSON object per line on stdout. */
export const jsonProgress =
  (stream: NodeJS.WritableStream = process.stdout) =>
  (event: ProgressEvent | Record<string, unknown>) =>
    stream.write(`${JSON.stringify(event)}\n`);
