import type { ConnectionObservation } from '../brokers/observation.ts';
import type { ServerHelloTamper } from '../brokers/server-hello-tamper.ts';
import type { AnchorRefusal, CaseOutcome } from '../contracts/case.ts';
import type { DeviceOutcome } from '../harness/drivers/driver.ts';
import type { RotationStep } from '../harness/drivers/rotation.ts';
import { type ServerKey, unofferedKeyNeed } from './key-offer.ts';
import { judgeTampered } from './tamper-judge.ts';

/** An outcome and the one sentence, built from the observations, that says why. */
export interface Judgement {
  readonly outcome: CaseOutcome;
  readonly reason: string;
  /** Set when the judgement itself found the anchor refused (the device never dialled; see `judgeAttempts`). */
  readonly anchorRefused?: AnchorRefusal;
}

/** What the server saw of one connection, in a few words, for a reason. */
function serverSaw(o: ConnectionObservation | undefined): string {
  if (!o) return 'no connection';
  if (o.handshake === 'not-tls') return 'bytes that were not TLS (no ClientHello)';
  if (o.clientAlert != null) return `client alert ${o.clientAlert.number} ${o.clientAlert.name}`;
  return `handshake ${o.handshake}${o.mqttConnect ? `, CONNECT ${o.mqttConnect.clientId}` : ', no MQTT CONNECT'}`;
}

/**
 * The outcome of one device attempt from both ends. `accepted` needs the device to report the TLS
 * link up *and* the server to have seen a completed handshake on a connection tied to the case
 * (its MQTT CONNECT carries the case's client id whenever the device says it connected); a device
 * that says success while the server saw no TLS is a contradiction, never a verdict. A device
 * found unhealthy during the case gives no verdict either. A device that refused its trust anchor
 * before dialling is inconclusive on one attempt: `judgeAttempts` decides whether it repeated.
 */
export function judgeBothEnds(
  device: DeviceOutcome,
  server: readonly ConnectionObservation[],
  clientId: string,
  options: JudgeOptions = {},
): Judgement {
  const reachedTls = server.some((o) => o.clientHello !== null);
  const last = server.at(-1);
  const tampered = options.serverHelloTamper ? judgeTampered(options.serverHelloTamper, device, last) : null;
  if (tampered) return tampered;
  const ended = options.serverShapesCase === false ? serverEndedIt(device, last) : null;
  const unoffered =
    ended && last?.clientHello && options.serverKey
      ? unofferedKeyNeed(last.clientHello, options.serverKey)
      : null;
  if (unoffered)
    return {
      outcome: 'rejected',
      reason: `${unoffered}: the server could not present its certificate (${last?.serverError ?? 'server error'})`,
    };
  if (ended) return { outcome: 'skipped', reason: ended };
  if (!device.healthy) {
    return {
      outcome: 'inconclusive',
      reason: `device fault during the case: ${device.error ?? 'marked unhealthy'}; no verdict from a faulty device`,
    };
  }
  if (device.reached.tlsOpened) {
    // A server that ended the connection on purpose (client certificate refused) is a rejection
    // by the server, even when the device thought the TLS link was up.
    if (last?.serverClosedReason && !device.reached.mqttConnected) {
      return { outcome: 'rejected', reason: `the server closed the connection: ${last.serverClosedReason}` };
    }
    const tied = server.find(
      (o) =>
        o.handshake === 'completed' &&
        (!device.reached.mqttConnected || o.mqttConnect?.clientId === clientId),
    );
    if (!tied) {
      const code = device.codes.at(-1)?.raw ?? 'no code';
      return {
        outcome: 'inconclusive',
        reason: `contradiction: the device reported ${device.reached.mqttConnected ? 'MQTT connected' : 'the TLS connection open'} (${code}) but the server saw no completed TLS handshake${device.reached.mqttConnected ? ` carrying client id ${clientId}` : ''} (server saw: ${serverSaw(last)})`,
      };
    }
    return {
      outcome: 'accepted',
      reason: 'the device reported the TLS connection open and the server saw the handshake complete',
    };
  }
  const refused = device.anchorRefused;
  if (refused && server.length === 0) {
    return {
      outcome: 'inconclusive',
      reason: `the device refused the trust anchor at ${refused.stage} before dialling (${refused.command} -> ${refused.raw}); the endpoint saw no connection`,
    };
  }
  if (!reachedTls) {
    const code = device.codes.at(-1)?.raw ?? device.error ?? 'no code';
    return {
      outcome: 'inconclusive',
      reason: `failed before TLS: the endpoint saw no ClientHello (${code})`,
    };
  }
  let how: string;
  if (last?.clientAlert != null)
    how = `client sent alert ${last.clientAlert.number} ${last.clientAlert.name}`;
  else if (last?.serverClosedReason) how = `server closed: ${last.serverClosedReason}`;
  else if (last?.serverError) how = `server error: ${last.serverError}`;
  else how = `handshake ${last?.handshake ?? 'unknown'}`;
  // Without a client alert and with a server error, the server ended it (e.g. no client certificate).
  const who =
    last?.clientAlert == null && (last?.serverError || last?.serverClosedReason)
      ? 'the server'
      : 'the device';
  return { outcome: 'rejected', reason: `${who} refused the connection; server saw: ${how}` };
}

export interface JudgeOptions {
  /**
   * False when the server only serves the case's certificates with default TLS parameters: a
   * handshake the server itself then aborts says nothing about the device. Default true (the case
   * sets versions, suites or client authentication, so the server's refusal is part of it).
   */
  readonly serverShapesCase?: boolean;
  /** The served leaf's key: a server that could not sign because the device offered nothing for it is the device's answer. */
  readonly serverKey?: ServerKey | null;
  /** The lab changed the ServerHello: the outcome is where the device stopped (`tamper-judge.ts`). */
  readonly serverHelloTamper?: ServerHelloTamper;
}

/**
 * The lab's TLS server, not the device, aborted the handshake (OpenSSL will not sign with a leaf
 * whose KeyUsage forbids what the device's offer needs): the device never judged the certificate.
 * Null when the device sent an alert, got the link up, or the server did not end it.
 */
function serverEndedIt(device: DeviceOutcome, last: ConnectionObservation | undefined): string | null {
  if (last?.handshake !== 'server-error' || last.clientAlert || last.serverClosedReason) return null;
  if (device.reached.tlsOpened) return null;
  const offered = last.clientHello?.offeredVersions.join(', ') ?? 'no ClientHello';
  return `the lab's TLS server ended the handshake before the device could judge the certificate (${last.serverError ?? 'server error'}, to a client offering ${offered}): it cannot present this certificate to this device, so no verdict`;
}

/** One device attempt at a case: what the device reported and what the endpoint saw meanwhile. */
export interface JudgedAttempt {
  readonly device: DeviceOutcome;
  readonly server: readonly ConnectionObservation[];
  readonly startedAt: string;
}

/** The case's twin as this run recorded it on the same device: when it connected, if it did. */
export interface TwinSeen {
  readonly case: string;
  readonly accepted: boolean;
  readonly endedAt: string;
}

/** How close to the case's last attempt its twin must have connected for a case that never dials to count as refusing its anchor. */
export const TWIN_RECENT_MS = 120_000;

/** An anchor refusal needs this many attempts refused the same way before it is a rejection. */
export const ANCHOR_REFUSAL_REPEATS = 2;

const refusalKey = (a: JudgedAttempt) =>
  a.device.anchorRefused && a.server.length === 0
    ? `${a.device.anchorRefused.stage}\n${a.device.anchorRefused.command}\n${a.device.anchorRefused.raw}`
    : null;

/**
 * The case's outcome from all its attempts (the last decides). A refused anchor is a device
 * answer, but one ERROR can also be a busy store or a garbled line: it is `rejected` only when the
 * attempts that ran refused the same command with the same answer at least twice, each without
 * dialling; otherwise it stays `inconclusive` and says so.
 */
export function judgeAttempts(
  attempts: readonly JudgedAttempt[],
  clientId: string,
  twin?: TwinSeen,
  options: JudgeOptions = {},
): Judgement {
  const last = attempts.at(-1);
  if (!last) throw new Error('judgeAttempts: no attempt ran');
  const judged = judgeBothEnds(last.device, last.server, clientId, options);
  if (judged.outcome !== 'inconclusive') return judged;
  const key = refusalKey(last);
  if (key === null) return neverDialled(attempts, twin) ?? judged;
  const same = attempts.filter((a) => refusalKey(a) === key).length;
  if (same < ANCHOR_REFUSAL_REPEATS) return judged;
  const refused = last.device.anchorRefused;
  return {
    outcome: 'rejected',
    reason: `the device refused the trust anchor at ${refused?.stage} before dialling, the same way on ${same} attempts (${refused?.command} -> ${refused?.raw}); the endpoint saw no connection`,
  };
}

/** The device's last answer in an attempt that opened no connection at all, on a healthy device; else null. */
function silentAnswer(a: JudgedAttempt): { step: string; raw: string } | null {
  const d = a.device;
  if (!d.healthy || d.reached.tlsOpened || d.anchorRefused || a.server.length > 0) return null;
  const code = d.codes.at(-1);
  return code ? { step: code.step, raw: code.raw } : null;
}

/**
 * A device that took the anchor but never dialled: every attempt (at least two) ended with the
 * same answer and no connection at the endpoint — not even TCP — while its twin connected on the
 * same device within moments of them. Then the anchor, the only thing that differs, was refused
 * before connecting; anything less (a different answer, a distant or failed twin) stays inconclusive.
 */
function neverDialled(attempts: readonly JudgedAttempt[], twin: TwinSeen | undefined): Judgement | null {
  if (!twin?.accepted || !neverDialledAlike(attempts)) return null;
  const first = silentAnswer(attempts[0] as JudgedAttempt) as { step: string; raw: string };
  const gap = Date.parse(twin.endedAt) - Date.parse(attempts.at(-1)?.startedAt ?? '');
  if (!Number.isFinite(gap) || Math.abs(gap) > TWIN_RECENT_MS) return null;
  const when = `${Math.round(Math.abs(gap) / 1000)} s ${gap < 0 ? 'before' : 'after'} the last attempt`;
  return {
    outcome: 'rejected',
    reason: `the device never dialled on ${attempts.length} attempts (${first.step}: ${first.raw} each time, the endpoint saw no connection) while its twin ${twin.case} connected on the same device ${when}: it refused the anchor before connecting`,
    anchorRefused: {
      stage: 'never-dialled',
      command: first.step,
      raw: first.raw,
      at: new Date().toISOString(),
    },
  };
}

/** At least two attempts, each ending with the same answer and no connection at the endpoint (not even TCP). */
export function neverDialledAlike(attempts: readonly JudgedAttempt[]): boolean {
  if (attempts.length < ANCHOR_REFUSAL_REPEATS) return false;
  const answers = attempts.map(silentAnswer);
  const first = answers[0];
  return !!first && answers.every((a) => a?.raw === first.raw && a?.step === first.step);
}

/**
 * One rotation step from both ends: accepted when the device had its publish acknowledged and the
 * connection tied to the step carried it; rejected when that connection got as far as a
 * ClientHello and no MQTT CONNECT; otherwise (or with nothing tied to it) inconclusive.
 */
export function judgeStep(
  step: RotationStep,
  seen: ConnectionObservation | undefined,
  topic: string,
): Judgement {
  if (!seen) return { outcome: 'inconclusive', reason: 'no server observation for this step' };
  const published = seen.mqttPublishes.some((p) => p.topic.startsWith(topic));
  if (step.reached.publishAcked && published)
    return { outcome: 'accepted', reason: 'the device had its publish acknowledged and the server saw it' };
  if (seen.clientHello && !seen.mqttConnect)
    return {
      outcome: 'rejected',
      reason: `the connection ended before MQTT; server saw: ${serverSaw(seen)}`,
    };
  return {
    outcome: 'inconclusive',
    reason: `the device and the server disagree (device reached ${JSON.stringify(step.reached)}; server saw: ${serverSaw(seen)})`,
  };
}
