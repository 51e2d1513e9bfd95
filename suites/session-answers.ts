import type { QuestionId } from '../reports/evidence/questions.ts';
import { trustModelAnswer as answer, type TrustModelAnswer } from '../reports/evidence/trust-model.ts';
import type { LadderEvidence } from './ladder-answers.ts';
import { type SessionConnection, type SessionRecord, sessionStory } from './sessions.ts';

const SAME = 'sessions::resume-same-chain';
const CHANGED = 'sessions::resume-after-chain-change';

/** The two connections of a sessions case whose controls confirmed it; null otherwise. */
function connectionsOf(
  e: LadderEvidence,
  id: string,
): readonly [SessionConnection, SessionConnection] | null {
  const r = e.record(id) as SessionRecord | undefined;
  if (!r?.session || Object.values(r.verdicts).includes('control-failed')) return null;
  return r.session.connections;
}

const offeredSomething = (c: SessionConnection) =>
  !!c.offered && (c.offered.psk || (c.offered.ticketBytes ?? 0) > 0 || c.offered.knownSessionId);

const why = (e: LadderEvidence, id: string) => {
  const r = e.record(id);
  return r ? `${id} was ${r.outcome}: ${r.reason}` : `${id} did not run`;
};

function fromSame(
  question: QuestionId,
  e: LadderEvidence,
  pick: (second: SessionConnection) => boolean | null,
): TrustModelAnswer {
  const na = e.notApplicable(SAME);
  if (na !== null) return answer(question, 'not-applicable', [SAME], na);
  const both = connectionsOf(e, SAME);
  if (!both) return answer(question, 'unknown', e.record(SAME) ? [SAME] : [], why(e, SAME));
  const [, second] = both;
  const got = pick(second);
  const detail = `second connection to the same server: ${sessionStory(second)}`;
  return answer(question, got === null ? 'unknown' : got ? 'yes' : 'no', [SAME], detail);
}

/**
 * The security finding: after the server's chain changed to one the device's anchor does not
 * verify, the device's second connection resumed its session and published, never shown that chain.
 */
function afterChainChange(e: LadderEvidence): TrustModelAnswer {
  const q = 'tls.session.resumed-after-chain-change';
  const na = e.notApplicable(CHANGED);
  if (na !== null) return answer(q, 'not-applicable', [CHANGED], na);
  const both = connectionsOf(e, CHANGED);
  if (!both) return answer(q, 'unknown', e.record(CHANGED) ? [CHANGED] : [], why(e, CHANGED));
  const [first, second] = both;
  const detail = `first connection: ${sessionStory(first)}; after the chain changed: ${sessionStory(second)}`;
  if (second.resumed === true && second.outcome === 'accepted')
    return answer(q, 'yes', [CHANGED], `${detail}; reference clients refuse that chain in a fresh handshake`);
  if (second.resumed === false && second.outcome === 'rejected')
    return answer(
      q,
      'no',
      [CHANGED],
      `${detail}${offeredSomething(second) ? '' : ' (it offered no session)'}`,
    );
  return answer(q, 'unknown', [CHANGED], detail);
}

/** Session resumption, from the two-connection sessions cases (suites/sessions.ts). */
export function sessionAnswers(e: LadderEvidence): TrustModelAnswer[] {
  return [
    fromSame('tls.session.resumed', e, (c) => (c.offered ? offeredSomething(c) && c.resumed === true : null)),
    afterChainChange(e),
  ];
}
