import type { LadderId } from '../certs/catalogue/index.ts';
import type { QuestionId } from '../reports/evidence/questions.ts';
import { trustModelAnswer as answer, type TrustModelAnswer } from '../reports/evidence/trust-model.ts';
import type { CaseRecord } from '../reports/record.ts';
import type { Scenario } from './scenario-model.ts';

/** What these answers read of a run's evidence (the trust model's Evidence satisfies it). */
export interface LadderEvidence {
  /** yes: accepted; no: refused while its twin (if any) was accepted; else unknown or not-applicable. */
  accepts(id: string): { answer: Answer; cases: string[]; note: string };
  notApplicable(id: string): string | null;
  record(id: string): CaseRecord | undefined;
}

type Answer = TrustModelAnswer['answer'];

interface Rung {
  readonly id: string;
  readonly rung: number;
  readonly label: string;
}

function rungsOf(scenarios: readonly Scenario[], ladder: LadderId): Rung[] {
  return scenarios
    .flatMap((s) =>
      s.ladder?.ladder === ladder ? [{ id: s.id, rung: s.ladder.rung, label: s.ladder.label }] : [],
    )
    .sort((a, b) => a.rung - b.rung);
}

/** How a refused rung failed, in the record's words (refused with an alert, dropped, timed out, device fault). */
function howRefused(e: LadderEvidence, id: string): string {
  const r = e.record(id);
  if (!r) return e.accepts(id).note;
  if (deviceFailed(e, id)) return `the device failed: ${r.reason}`;
  const wire = r.server.wire;
  const served =
    wire?.servedChainBytes != null
      ? ` (the server sent ${wire.servedChainBytes} DER bytes of certificates in ${wire.certificateRecords} record${wire.certificateRecords === 1 ? '' : 's'})`
      : '';
  return `${r.reason}${served}`;
}

/**
 * A rung on which the device failed (restarted, hung, lost its port) is a refusal of the worst
 * kind: every rung is a valid chain its controls confirmed, and the run health-checked the device
 * before going on (health-checks.jsonl). Its record's reason says what happened.
 */
function deviceFailed(e: LadderEvidence, id: string): boolean {
  const r = e.record(id);
  return r?.outcome === 'inconclusive' && r.device.healthy === false;
}

/** The rungs that gave an answer, split; the others with why they did not. */
function split(e: LadderEvidence, rungs: readonly Rung[]) {
  const said = rungs.map((r) => {
    const a = e.accepts(r.id);
    return {
      r,
      a: a.answer === 'unknown' && deviceFailed(e, r.id) ? { ...a, answer: 'no' as const, cases: [r.id] } : a,
    };
  });
  return {
    accepted: said.filter((s) => s.a.answer === 'yes').map((s) => s.r),
    refused: said.filter((s) => s.a.answer === 'no').map((s) => s.r),
    silent: said.filter((s) => s.a.answer !== 'yes' && s.a.answer !== 'no'),
    cases: said.filter((s) => s.a.answer === 'yes' || s.a.answer === 'no').flatMap((s) => s.a.cases),
  };
}

const silentNote = (silent: ReturnType<typeof split>['silent']) =>
  silent.length > 0 ? [`no answer from ${silent.map((s) => `${s.r.label} (${s.a.note})`).join('; ')}`] : [];

/**
 * A size ladder read as a whole: yes when every rung up to the top ran and was accepted; no when
 * one was refused, naming the largest accepted and the first refused rung and how it failed. Each
 * rung is a valid chain confirmed by the reference clients, so a refusal is the size's doing.
 */
export function sizeLadderAnswer(
  question: QuestionId,
  e: LadderEvidence,
  scenarios: readonly Scenario[],
  ladder: LadderId,
): TrustModelAnswer {
  const rungs = rungsOf(scenarios, ladder);
  const { accepted, refused, silent, cases } = split(e, rungs);
  if (accepted.length + refused.length === 0) return noAnswer(question, e, rungs, ladder);
  const largest = accepted.at(-1);
  const first = refused[0];
  const parts = [
    largest ? `largest accepted: ${largest.label} (${largest.id})` : 'no rung accepted',
    first ? `first refused: ${first.label} (${first.id}: ${howRefused(e, first.id)})` : 'none refused',
  ];
  if (first && accepted.some((r) => r.rung > first.rung))
    parts.push(
      `not monotonic: ${accepted
        .filter((r) => r.rung > first.rung)
        .map((r) => r.label)
        .join(', ')} accepted above it`,
    );
  parts.push(...silentNote(silent));
  if (first) return answer(question, 'no', cases, parts.join('; '));
  return answer(question, silent.length === 0 ? 'yes' : 'unknown', cases, parts.join('; '));
}

function noAnswer(
  question: QuestionId,
  e: LadderEvidence,
  rungs: readonly Rung[],
  ladder: LadderId,
): TrustModelAnswer {
  const ids = rungs.map((r) => r.id);
  const na = ids.map((id) => e.notApplicable(id));
  if (na.length > 0 && na.every((n) => n !== null))
    return answer(question, 'not-applicable', ids, [...new Set(na)].join('; '));
  const ran = ids.filter((id) => e.record(id));
  return answer(
    question,
    'unknown',
    ran,
    ran.length === 0
      ? `no rung of the ${ladder} ladder ran (its rungs run with --full)`
      : `no rung of the ${ladder} ladder gave an answer: ${ran.map((id) => e.accepts(id).note).join('; ')}`,
  );
}

/** A ladder without an order of size (key types): which rungs were accepted and which refused, and why. */
export function everyRungAnswer(
  question: QuestionId,
  e: LadderEvidence,
  scenarios: readonly Scenario[],
  ladder: LadderId,
  from: number,
): TrustModelAnswer {
  const rungs = rungsOf(scenarios, ladder).filter((r) => r.rung >= from);
  const { accepted, refused, silent, cases } = split(e, rungs);
  if (accepted.length + refused.length === 0) return noAnswer(question, e, rungs, ladder);
  const parts = [
    `accepted: ${accepted.map((r) => r.label).join(', ') || 'none'}`,
    ...refused.map((r) => `refused ${r.label}: ${howRefused(e, r.id)}`),
    ...silentNote(silent),
  ];
  if (refused.length > 0) return answer(question, 'no', cases, parts.join('; '));
  return answer(question, silent.length === 0 ? 'yes' : 'unknown', cases, parts.join('; '));
}

/** A ClientHello fact read from the sanity case (every run has it): does the device offer extension `type`? */
export function offersExtension(
  question: QuestionId,
  e: LadderEvidence,
  type: number,
  name: string,
  id = 'anchors::right-ca',
): TrustModelAnswer {
  const hello = e.record(id)?.server.clientHello;
  if (!hello) return answer(question, 'unknown', e.record(id) ? [id] : [], `${id}: no ClientHello was seen`);
  const offered = hello.extensions.includes(type);
  const value =
    type === 1 && hello.maxFragmentLength !== null
      ? ` (code ${hello.maxFragmentLength}: ${256 << hello.maxFragmentLength} bytes)`
      : '';
  return answer(
    question,
    offered ? 'yes' : 'no',
    [id],
    `the ClientHello of ${id} ${offered ? `carried ${name}${value}` : `carried no ${name}`} (extensions: ${hello.extensions.join(' ')})`,
  );
}
