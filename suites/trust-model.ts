import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QuestionId } from '../reports/evidence/questions.ts';
import {
  trustModelAnswer as answer,
  TRUST_MODEL_FILE,
  type TrustModelAnswer,
} from '../reports/evidence/trust-model.ts';
import type { CaseRecord } from '../reports/record.ts';
import { everyRungAnswer, offersExtension, sizeLadderAnswer } from './ladder-answers.ts';
import type { RotationRecord } from './rotation.ts';
import { SCENARIOS } from './scenarios.ts';
import { sessionAnswers } from './session-answers.ts';

export type { TrustModelAnswer };

type Answer = TrustModelAnswer['answer'];

/** The scenario a record ran (records from before issue 7 carry only the case id). */
const scenarioOf = (r: CaseRecord) => (r as { scenario?: string }).scenario ?? r.case.replace(/\[.*\]$/, '');
const controlFailed = (r: CaseRecord) => Object.values(r.verdicts).includes('control-failed');

/** Observations only: the outcome of each case that ran and whose controls confirmed it. */
class Evidence {
  readonly #byCase = new Map<string, CaseRecord>();

  constructor(records: readonly CaseRecord[]) {
    for (const r of records) this.#byCase.set(r.case, r);
  }

  /** 'accepted' | 'rejected' when the case ran and its controls confirmed it; null otherwise. */
  outcome(id: string): 'accepted' | 'rejected' | null {
    const r = this.#byCase.get(id);
    if (!r || controlFailed(r)) return null;
    return r.outcome === 'accepted' || r.outcome === 'rejected' ? r.outcome : null;
  }

  ids(): string[] {
    return [...this.#byCase.keys()];
  }

  /** The reason when the case was skipped because the device has no way to be asked it; null otherwise. */
  notApplicable(id: string): string | null {
    const r = this.#byCase.get(id);
    const verdicts = r ? Object.values(r.verdicts) : [];
    return r && verdicts.length > 0 && verdicts.every((v) => v === 'not-applicable') ? r.reason : null;
  }

  record(id: string): CaseRecord | undefined {
    return this.#byCase.get(id);
  }

  /** The twin of a case under the same settings when it ran, else the twin under its own settings. */
  twinOf(id: string): string | null {
    const r = this.#byCase.get(id);
    const scenario = r ? scenarioOf(r) : id.replace(/\[.*\]$/, '');
    const twin = (r as { twin?: string } | undefined)?.twin ?? SCENARIOS.find((s) => s.id === scenario)?.twin;
    if (!twin) return null;
    const suffix = /\[.*\]$/.exec(id)?.[0] ?? '';
    return suffix && this.#byCase.has(`${twin}${suffix}`) ? `${twin}${suffix}` : twin;
  }

  /**
   * Did the device accept this defect? 'no' only when its twin was accepted (so the refusal is the
   * defect's doing, not a device that refuses everything of that shape).
   */
  accepts(id: string): { answer: Answer; cases: string[]; note: string } {
    const na = this.notApplicable(id);
    if (na !== null) return { answer: 'not-applicable', cases: [id], note: na };
    const got = this.outcome(id);
    if (got === null)
      return { answer: 'unknown', cases: this.#byCase.has(id) ? [id] : [], note: this.why(id) };
    if (got === 'accepted') return { answer: 'yes', cases: [id], note: `${id} accepted` };
    const twin = this.twinOf(id);
    const twinGot = twin ? this.outcome(twin) : 'accepted';
    if (twinGot === 'accepted')
      return { answer: 'no', cases: twin ? [id, twin] : [id], note: `${id} refused, twin accepted` };
    return {
      answer: 'unknown',
      cases: twin ? [id, twin] : [id],
      note: `${id} refused, but so was (or did not run) its twin ${twin}: the refusal is not the defect's`,
    };
  }

  why(id: string): string {
    const r = this.#byCase.get(id);
    if (!r) return `${id} did not run`;
    if (controlFailed(r)) return `${id}: reference controls did not confirm the case`;
    return `${id} was ${r.outcome}: ${r.reason}`;
  }
}

/** Combine several cases that each say yes/no to the same question: any yes wins, all no is no. */
function anyYes(
  question: QuestionId,
  parts: ReturnType<Evidence['accepts']>[],
  yesMeans = 'accepted',
): TrustModelAnswer {
  const cases = parts.flatMap((p) => p.cases);
  const detail = parts.map((p) => p.note).join('; ');
  if (parts.some((p) => p.answer === 'yes')) return answer(question, 'yes', cases, detail);
  if (parts.length > 0 && parts.every((p) => p.answer === 'not-applicable'))
    return answer(question, 'not-applicable', cases, [...new Set(parts.map((p) => p.note))].join('; '));
  if (parts.length > 0 && parts.every((p) => p.answer === 'no')) return answer(question, 'no', cases, detail);
  return answer(question, 'unknown', cases, detail || `nothing ${yesMeans}`);
}

/** RFC 5746: the renegotiation_info extension (65281) or, in its place, the SCSV 0x00ff. */
function secureRenegotiationAnswer(e: Evidence): TrustModelAnswer {
  const a = offersExtension('tls.secure-renegotiation.offered', e, 65281, 'renegotiation_info');
  const scsv = e.record('anchors::right-ca')?.server.clientHello?.cipherSuites.includes(0x00ff);
  return a.answer === 'no' && scsv
    ? {
        ...a,
        answer: 'yes',
        detail: `${a.detail}; it offered TLS_EMPTY_RENEGOTIATION_INFO_SCSV (0x00ff) instead`,
      }
    : a;
}

/** Every case must say yes: any no is no (naming it), all yes is yes. */
function allYes(question: QuestionId, parts: ReturnType<Evidence['accepts']>[]): TrustModelAnswer {
  const a = anyYes(question, parts);
  if (parts.some((p) => p.answer === 'no'))
    return answer(
      question,
      'no',
      a.cases,
      parts
        .filter((p) => p.answer === 'no')
        .map((p) => p.note)
        .join('; '),
    );
  if (parts.every((p) => p.answer === 'yes')) return a;
  return a.answer === 'yes' ? { ...a, answer: 'unknown' } : a;
}

/** The negation: "checks X?" is yes when the defect is refused (with its twin accepted). */
function refuses(question: QuestionId, parts: ReturnType<Evidence['accepts']>[]): TrustModelAnswer {
  const a = anyYes(question, parts);
  const flipped: Answer = a.answer === 'yes' ? 'no' : a.answer === 'no' ? 'yes' : a.answer;
  return { ...a, answer: flipped };
}

const SERVER_HELLO_CASES = [
  'tls::server-hello-unoffered-suite',
  'tls::server-hello-unrequested-alpn',
  'tls::server-hello-downgrade-sentinel',
];

/**
 * The changed-ServerHello cases: each refused with its twin accepted is a yes, any one gone past is
 * a no; a case the device could not be asked (the sentinel, without TLS 1.3) is left out and named.
 */
function serverHelloAnswer(e: Evidence): TrustModelAnswer {
  const q = 'tls.server-hello.checked';
  const parts = SERVER_HELLO_CASES.map((id) => {
    const a = refuses(q, [e.accepts(id)]);
    const why = e.record(id)?.reason;
    return {
      id,
      answer: a.answer,
      note: a.answer === 'yes' || a.answer === 'no' ? `${id}: ${why}` : a.detail,
    };
  });
  const asked = parts.filter((p) => p.answer !== 'not-applicable');
  const detail = parts.map((p) => p.note).join('; ');
  const cases = parts.map((p) => p.id);
  if (asked.length === 0) return answer(q, 'not-applicable', cases, detail);
  if (asked.some((p) => p.answer === 'no')) return answer(q, 'no', cases, detail);
  return answer(q, asked.every((p) => p.answer === 'yes') ? 'yes' : 'unknown', cases, detail);
}

/** `not-applicable` when every one of these cases was one the device could not be asked; null otherwise. */
function notApplicableAll(
  question: QuestionId,
  e: Evidence,
  ids: readonly string[],
): TrustModelAnswer | null {
  const why = ids.map((id) => e.notApplicable(id));
  if (why.length === 0 || why.some((w) => w === null)) return null;
  return answer(question, 'not-applicable', ids, [...new Set(why)].join('; '));
}

/** Whether a knob changed outcomes: pairs of (without, with) the knob. */
function knobChanges(
  question: QuestionId,
  e: Evidence,
  pairs: readonly [string, string][],
): TrustModelAnswer {
  const changed: string[] = [];
  const same: string[] = [];
  const cases: string[] = [];
  for (const [off, on] of pairs) {
    const a = e.outcome(off);
    const b = e.outcome(on);
    if (a === null || b === null) continue;
    cases.push(off, on);
    (a !== b ? changed : same).push(`${off}: ${a} → ${b}`);
  }
  if (cases.length === 0) {
    const na = pairs.map(([, on]) => [on, e.notApplicable(on)] as const).filter(([, why]) => why !== null);
    if (na.length > 0)
      return answer(
        question,
        'not-applicable',
        na.map(([id]) => id),
        [...new Set(na.map(([, why]) => why))].join('; '),
      );
    return answer(question, 'unknown', [], 'no pair of cases with and without the setting ran');
  }
  const detail = [
    changed.length ? `changed: ${changed.join('; ')}` : '',
    same.length ? `unchanged: ${same.join('; ')}` : '',
  ]
    .filter(Boolean)
    .join('. ');
  return answer(question, changed.length > 0 ? 'yes' : 'no', cases, detail);
}

function sniAnswer(question: QuestionId, e: Evidence, id: string): TrustModelAnswer {
  const na = e.notApplicable(id);
  if (na !== null) return answer(question, 'not-applicable', [id], na);
  const r = e.record(id);
  if (!r?.server.clientHello) {
    return answer(
      question,
      'unknown',
      r ? [id] : [],
      r ? `${id}: no ClientHello was seen` : `${id} did not run`,
    );
  }
  const dialled = String((r.params as Record<string, unknown>).dialledHost ?? r.params.dialHost ?? '');
  return r.server.sni
    ? answer(question, 'yes', [id], `sent "${r.server.sni}"${dialled ? ` (dialled ${dialled})` : ''}`)
    : answer(question, 'no', [id], `the ClientHello of ${id} carried no server_name`);
}

const QUECTEL_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  '1': ['TLSv1'],
  '2': ['TLSv1.1'],
  '3': ['TLSv1.2'],
};

function versionsAnswer(e: Evidence): TrustModelAnswer {
  const q = 'tls.version-limit.respected';
  const cases: string[] = [];
  const notes: string[] = [];
  let mismatch = false;
  for (const [setting, wanted] of Object.entries(QUECTEL_VERSIONS)) {
    const id = `anchors::right-ca[sslversion=${setting}]`;
    const hello = e.record(id)?.server.clientHello;
    if (!hello) continue;
    cases.push(id);
    const offered = hello.offeredVersions;
    const only = offered.length === wanted.length && wanted.every((v) => offered.includes(v));
    if (!only) mismatch = true;
    notes.push(`sslversion ${setting}: offered ${offered.join(', ') || 'nothing'}`);
  }
  const all = e.record('anchors::right-ca')?.server.clientHello;
  if (all) notes.push(`sslversion 4: offered ${all.offeredVersions.join(', ')}`);
  if (cases.length === 0)
    return (
      notApplicableAll(
        q,
        e,
        Object.keys(QUECTEL_VERSIONS).map((v) => `anchors::right-ca[sslversion=${v}]`),
      ) ?? answer(q, 'unknown', [], 'no case with a single configured version saw a ClientHello')
    );
  return answer(
    q,
    mismatch ? 'no' : 'yes',
    [...cases, ...(all ? ['anchors::right-ca'] : [])],
    notes.join('; '),
  );
}

function suitesAnswer(e: Evidence): TrustModelAnswer {
  const q = 'tls.cipher-suite-limit.respected';
  const id = 'anchors::right-ca[ciphersuite=0XC023]';
  const na = e.notApplicable(id);
  if (na !== null) return answer(q, 'not-applicable', [id], na);
  const hello = e.record(id)?.server.clientHello;
  if (!hello) return answer(q, 'unknown', e.record(id) ? [id] : [], `${id}: no ClientHello seen`);
  // The renegotiation SCSV (0x00ff) and TLS 1.3 suites (0x13xx) are not a configured choice.
  const real = hello.cipherSuites.filter((s) => s !== 0x00ff && s >> 8 !== 0x13);
  const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
  const only = real.length === 1 && real[0] === 0xc023;
  return answer(q, only ? 'yes' : 'no', [id], `configured 0xc023, offered ${real.map(hex).join(', ')}`);
}

function depthAnswer(e: Evidence): TrustModelAnswer {
  const q = 'chain.depth-8.accepted';
  let deepest = 0;
  let firstRefused: number | null = null;
  const cases: string[] = [];
  for (let n = 1; n <= 8; n++) {
    const id = n === 1 ? 'anchors::right-ca' : `chains::intermediates-${n}`;
    const got = e.outcome(id);
    if (got === null) continue;
    cases.push(id);
    if (got === 'accepted' && firstRefused === null) deepest = n;
    if (got === 'rejected' && firstRefused === null) firstRefused = n;
  }
  if (cases.length === 0) return answer(q, 'unknown', [], 'no chain-depth case ran');
  const detail = `deepest accepted: ${deepest} intermediate(s)${firstRefused ? `; first refused: ${firstRefused}${depthOrSize(e, firstRefused)}` : ''}`;
  if (deepest === 8) return answer(q, 'yes', cases, detail);
  return answer(q, firstRefused ? 'no' : 'unknown', cases, detail);
}

/**
 * A deeper chain is also a longer one: whether the run holds evidence that separates the two. A
 * chain at least as large accepted elsewhere in the run (fewer, larger certificates) says the
 * depth did it; otherwise the refusal may be the size's, and the answer says so.
 */
function depthOrSize(e: Evidence, refusedDepth: number): string {
  const refusedBytes = e.record(`chains::intermediates-${refusedDepth}`)?.server.wire?.servedChainBytes;
  if (refusedBytes == null) return '';
  const larger = e
    .ids()
    .map((id) => ({ id, bytes: e.record(id)?.server.wire?.servedChainBytes ?? 0 }))
    .filter((c) => e.outcome(c.id) === 'accepted' && c.bytes >= refusedBytes)
    .sort((a, b) => b.bytes - a.bytes)[0];
  return larger
    ? ` (${refusedBytes} DER bytes served; ${larger.id}, ${larger.bytes} bytes, was accepted: the depth, not the size)`
    : ` (${refusedBytes} DER bytes served, and no chain that large was accepted in this run: the size may be what was refused, not the depth — see size.served-chain.16k-accepted)`;
}

function storeAnswer(e: Evidence): TrustModelAnswer {
  const q = 'anchors.built-in-store.trusted';
  const probe = 'anchors::public-root-wrong-ca';
  const publicBrokers = e.ids().filter((id) => id.startsWith('public::'));
  const reached = publicBrokers.filter((id) => e.outcome(id) === 'accepted');
  if (reached.length > 0) {
    return answer(
      q,
      'yes',
      reached,
      `with an unrelated CA uploaded, the device opened TLS to ${reached.join(', ')}`,
    );
  }
  const refusedAll = publicBrokers.length > 0 && publicBrokers.every((id) => e.outcome(id) === 'rejected');
  const got = e.outcome(probe);
  if (refusedAll && got !== 'accepted') {
    return answer(q, 'no', publicBrokers, 'every public broker was refused with an unrelated CA uploaded');
  }
  // A device that accepts a wrong CA for a lab-private root verifies nothing: a store cannot show.
  if (e.outcome('anchors::wrong-ca') === 'accepted') {
    return answer(
      q,
      'unknown',
      ['anchors::wrong-ca'],
      'a wrong CA was accepted even for a lab-private root: the device does not verify, so a store cannot be told apart',
    );
  }
  if (got === 'accepted') {
    return answer(
      q,
      'yes',
      [probe, 'anchors::wrong-ca'],
      `with an unrelated CA uploaded, a chain from a public root was accepted (${e.why(probe)})`,
    );
  }
  if (got === 'rejected' && e.outcome('anchors::public-root-right-ca') !== 'rejected') {
    return answer(q, 'no', [probe], 'a chain from a public root was refused with an unrelated CA uploaded');
  }
  return answer(
    q,
    'unknown',
    e.record(probe) ? [probe] : [],
    `${e.why(probe)} (the public-root probe: --public-probe on hardware, a lab root in the built-in store on the virtual modem)`,
  );
}

function uploadedAnswer(e: Evidence): TrustModelAnswer {
  const q = 'anchors.uploaded-ca.trusted';
  const got = e.outcome('anchors::right-ca');
  if (got === 'accepted')
    return answer(q, 'yes', ['anchors::right-ca'], 'a valid chain from the uploaded root was accepted');
  if (got === 'rejected')
    return answer(
      q,
      'no',
      ['anchors::right-ca'],
      `a valid chain from the uploaded root was refused: ${e.why('anchors::right-ca')}`,
    );
  return answer(
    q,
    'unknown',
    e.record('anchors::right-ca') ? ['anchors::right-ca'] : [],
    e.why('anchors::right-ca'),
  );
}

/** The client certificate the broker recorded for a case (suites records carry it; older ones do not). */
const clientCertSeen = (r: CaseRecord | undefined) =>
  (
    r?.server as
      | {
          clientCertificate?: {
            subject: string;
            issuer: string;
            verified: boolean | null;
            verifyError: string | null;
          } | null;
        }
      | undefined
  )?.clientCertificate;

/**
 * From the broker's record of the client certificate, not from the outcome alone: yes when the
 * broker saw one (client::right-ca), no when the device got through TLS to a broker that asked and
 * the broker saw none, unknown otherwise.
 */
function clientCertAnswer(e: Evidence): TrustModelAnswer {
  const q = 'client.certificate.presented';
  const ids = ['client::right-ca', 'client::wrong-ca', 'client::expired'].filter((id) => e.record(id));
  const seen = ids.flatMap((id) => {
    const cert = clientCertSeen(e.record(id));
    return cert ? [{ id, cert }] : [];
  });
  if (seen.length > 0) {
    const detail = seen
      .map(
        ({ id, cert }) =>
          `${id}: broker saw ${cert.subject.replaceAll('\n', ', ')} (${cert.verified ? 'verified' : `refused: ${cert.verifyError ?? 'unverified'}`})`,
      )
      .join('; ');
    return answer(
      q,
      'yes',
      seen.map((s) => s.id),
      detail,
    );
  }
  const right = e.record('client::right-ca');
  const reachedTls = right?.server.clientHello !== null && right?.server.clientHello !== undefined;
  if (right && reachedTls && clientCertSeen(right) === null)
    return answer(
      q,
      'no',
      ['client::right-ca'],
      `the broker asked and saw no client certificate: ${right.reason}`,
    );
  return answer(q, 'unknown', ids, e.why('client::right-ca'));
}

const REBIND = 'rotation::rebind-without-reboot';
const REBOOT = 'rotation::settings-after-reboot';

function rotationOf(e: Evidence, id: string): RotationRecord['rotation'] | null {
  const r = e.record(id) as RotationRecord | undefined;
  return r && !controlFailed(r) ? (r.rotation ?? null) : null;
}

/** The device's refusal of the case's anchor (upload or binding), as recorded; null when none. */
const refusalOf = (r: CaseRecord | undefined) => r?.device.anchorRefused ?? null;
const refusalText = (id: string, r: CaseRecord) => {
  const x = refusalOf(r);
  return x ? `${id}: anchor refused at ${x.stage} (${x.command} -> ${x.raw})` : `${id}: ${r.outcome}`;
};
/** The device took the case's anchor and dialled: the endpoint saw its connection. */
const dialled = (r: CaseRecord | undefined) => !!r && !refusalOf(r) && r.server.connections > 0;

/**
 * Did the device refuse this case's anchor before dialling? Yes only while the twin's anchor was
 * taken and dialled with (a device refusing every upload says nothing about this defect).
 */
function refusedAtUpload(question: QuestionId, e: Evidence, id: string): TrustModelAnswer {
  const na = e.notApplicable(id);
  if (na !== null) return answer(question, 'not-applicable', [id], na);
  const r = e.record(id);
  if (!r || e.outcome(id) === null) return answer(question, 'unknown', r ? [id] : [], e.why(id));
  const twin = e.twinOf(id);
  if (refusalOf(r)) {
    const t = twin ? e.record(twin) : undefined;
    if (twin && !dialled(t))
      return answer(
        question,
        'unknown',
        [id, twin],
        `${refusalText(id, r)}; but the twin ${twin} did not dial either`,
      );
    return answer(
      question,
      'yes',
      twin ? [id, twin] : [id],
      `${refusalText(id, r)}${twin ? `; twin ${twin} dialled` : ''}`,
    );
  }
  if (dialled(r))
    return answer(question, 'no', [id], `${id}: the device took the anchor and dialled (${r.outcome})`);
  return answer(question, 'unknown', [id], e.why(id));
}

/** Any anchor refused at upload or binding, with its twin dialled; no when every anchor tried was taken. */
function refusedBeforeDiallingAnswer(e: Evidence): TrustModelAnswer {
  const q = 'anchors.refused-before-dialling';
  const ran = e.ids().filter((id) => e.outcome(id) !== null);
  const refused = ran.filter((id) => refusalOf(e.record(id)));
  const confirmed = refused.filter((id) => {
    const twin = e.twinOf(id);
    return !twin || dialled(e.record(twin));
  });
  if (confirmed.length > 0)
    return answer(
      q,
      'yes',
      confirmed,
      confirmed.map((id) => refusalText(id, e.record(id) as CaseRecord)).join('; '),
    );
  if (refused.length > 0)
    return answer(q, 'unknown', refused, `${refused.join(', ')} refused at upload, but so were their twins`);
  const took = ran.filter((id) => dialled(e.record(id)) && (e.record(id)?.certs.anchors.length ?? 0) > 0);
  if (took.length === 0) return answer(q, 'unknown', [], 'no case dialled with its anchor');
  return answer(
    q,
    'no',
    took,
    `every anchor of the ${took.length} cases that ran was taken and dialled with`,
  );
}

/** Yes when the rebound CA reached the new server and the old server was refused after the rebind. */
function rebindAnswer(e: Evidence): TrustModelAnswer {
  const q = 'rotation.rebind.effective';
  const rot = rotationOf(e, REBIND);
  if (!rot) return answer(q, 'unknown', e.record(REBIND) ? [REBIND] : [], e.why(REBIND));
  const step = (n: string) => rot.steps.find((s) => s.name === n)?.outcome;
  const newNew = step('new-ca/new-server');
  const newOld = step('new-ca/old-server');
  const steps = rot.steps.map((s) => `${s.name} ${s.outcome}`).join(', ');
  if (newNew === 'accepted' && newOld === 'rejected')
    return answer(q, 'yes', [REBIND], `${rot.rebind?.step ?? 'rebind'} → ${rot.rebind?.raw}; ${steps}`);
  if (newNew === 'rejected' && newOld === 'accepted')
    return answer(q, 'no', [REBIND], `the device kept using the old CA after the rebind; ${steps}`);
  const resumedOld = rot.steps.find((s) => s.name === 'new-ca/old-server')?.serverSaw?.resumed === true;
  if (newNew === 'accepted' && newOld === 'accepted' && resumedOld)
    return answer(
      q,
      'no',
      [REBIND],
      `after the rebind the device still reached the old server by resuming the session it made there before (no certificate was sent); ${steps}`,
    );
  return answer(q, 'unknown', [REBIND], `${steps}; ${e.why(REBIND)}`);
}

/** From the settings read back before and after AT+CFUN=1,1: any SSL key that changed means no. */
function rebootSettingsAnswer(e: Evidence): TrustModelAnswer {
  const q = 'rotation.reboot.settings-kept';
  const reboot = rotationOf(e, REBOOT)?.reboot;
  if (!reboot) return answer(q, 'unknown', e.record(REBOOT) ? [REBOOT] : [], e.why(REBOOT));
  const detail = `after ${reboot.announced}: lost ${reboot.lost.join(', ') || 'nothing'}; read back unchanged (set or default) ${reboot.kept.join(', ') || 'nothing'}`;
  // The driver names its TLS-context settings; records from before it did are Quectel's (QSSLCFG keys).
  const context = new Set(
    reboot.contextSettings ?? reboot.kept.concat(reboot.lost).filter((k) => k.startsWith('QSSLCFG')),
  );
  const ssl = (k: string) => context.has(k);
  // A dialect without SSL contexts (nRF91: a sec_tag named per connection) has nothing to keep.
  if (![...reboot.kept, ...reboot.lost].some(ssl)) {
    return answer(q, 'not-applicable', [REBOOT], `the device has no SSL context settings to keep; ${detail}`);
  }
  return answer(q, reboot.lost.some(ssl) ? 'no' : 'yes', [REBOOT], detail);
}

/** Whether a rotation's CA store is listed after the reboot: a UFS file name, or a CA entry (type 0) of the sec_tag. */
function storeListed(store: string, listed: readonly string[]): boolean {
  const tag = /^sec_tag:(\d+)$/.exec(store)?.[1];
  if (tag !== undefined) return listed.some((l) => new RegExp(`^%CMNG: ${tag},0\\b`).test(l));
  return listed.includes(store.replace(/^UFS:/, ''));
}

/** The owned files listed after the reboot, and a connection that used the surviving CA file. */
function rebootFilesAnswer(e: Evidence): TrustModelAnswer {
  const q = 'rotation.reboot.files-kept';
  const rot = rotationOf(e, REBOOT);
  const reboot = rot?.reboot;
  if (!rot || !reboot) return answer(q, 'unknown', e.record(REBOOT) ? [REBOOT] : [], e.why(REBOOT));
  const after = rot.steps.find((s) => s.name === 'after-reboot')?.outcome;
  const detail = `listed after the reboot: ${reboot.filesAfter.join(', ') || 'none'}; connection with it: ${after ?? 'not run'}`;
  if (!storeListed(rot.stores.new ?? '', reboot.filesAfter)) return answer(q, 'no', [REBOOT], detail);
  return answer(q, after === 'accepted' ? 'yes' : 'unknown', [REBOOT], detail);
}

/**
 * The device's trust-anchor model, inferred from observations only: what it accepted and refused,
 * and what the broker saw. Never from the device's name or a personality label. Pure: merging shard
 * runs recomputes it from the merged records.
 */
export function inferTrustModel(records: readonly CaseRecord[]): TrustModelAnswer[] {
  const e = new Evidence(records);
  const acc = (id: string) => e.accepts(id);
  const validity = (where: string) => [
    acc(`validity::${where}-expired`),
    acc(`validity::${where}-not-yet-valid`),
  ];
  const wildcardBeyond = ['names::wildcard-apex', 'names::wildcard-two-labels', 'names::wildcard-partial'];
  return [
    uploadedAnswer(e),
    storeAnswer(e),
    refuses('chain.unrelated-root.refused', [acc('anchors::wrong-ca')]),
    anyYes('anchors.no-ca.connects', [acc('anchors::no-ca-uploaded')]),
    knobChanges('switch.no-verification.disables-checks', e, [
      ['anchors::wrong-ca', 'anchors::wrong-ca[seclevel=0]'],
      ['names::san-mismatch', 'names::san-mismatch[seclevel=0]'],
    ]),
    anyYes('root.without-basic-constraints.accepted', [acc('anchors::root-without-basic-constraints')]),
    anyYes('root.ca-false.accepted', [acc('anchors::root-ca-false')]),
    anyYes('root.ku-without-keycertsign.accepted', [acc('anchors::root-ku-without-keycertsign')]),
    anyYes('root.without-key-usage.accepted', [acc('anchors::root-without-key-usage')]),
    anyYes('root.bc-not-critical.accepted', [acc('anchors::root-bc-not-critical')]),
    anyYes('root.v1.accepted', [acc('anchors::v1-root')]),
    anyYes('anchors.intermediate-as-anchor.accepted', [acc('anchors::intermediate-as-anchor')]),
    refuses('validity.leaf.checked', validity('leaf')),
    refuses('validity.intermediate.checked', validity('intermediate')),
    refuses('validity.root.checked', validity('root')),
    knobChanges(
      'switch.ignore-clock.disables-validity',
      e,
      ['leaf', 'intermediate', 'root'].flatMap((w) =>
        ['expired', 'not-yet-valid'].map(
          (k) => [`validity::${w}-${k}`, `validity::${w}-${k}[ignorelocaltime=1]`] as [string, string],
        ),
      ),
    ),
    refuses('names.sni-on.checked', [acc('names::san-mismatch')]),
    refuses('names.sni-off.checked', [acc('names::san-mismatch[sni=0]')]),
    anyYes('names.cn-fallback.accepted', [acc('names::cn-only-no-san')]),
    anyYes('names.cn-match-san-mismatch.accepted', [acc('names::cn-matches-san-does-not')]),
    anyYes('names.wildcard-one-label.accepted', [acc('names::wildcard-one-label')]),
    anyYes('names.wildcard-beyond-label.accepted', wildcardBeyond.map(acc)),
    anyYes('names.ip-literal-ip-san.matched', [acc('names::ip-literal-ip-san')]),
    anyYes('names.ip-literal-dns-san.matched', [acc('names::ip-literal-dns-san')]),
    sniAnswer('sni.sent', e, 'anchors::right-ca'),
    sniAnswer('sni.sent-when-off', e, 'anchors::right-ca[sni=0]'),
    sniAnswer('sni.ip-literal-sent', e, 'anchors::right-ca[dial=ip]'),
    depthAnswer(e),
    anyYes('chain.reverse-order.accepted', [acc('chains::reverse-order')]),
    anyYes('chain.missing-intermediate.completed', [acc('chains::intermediate-not-sent')]),
    anyYes('chain.extra-unrelated-cert.accepted', [acc('chains::extra-unrelated-cert')]),
    refuses('chain.pathlen.enforced', [acc('chains::pathlen-exceeded')]),
    anyYes('chain.non-ca-intermediate.accepted', [
      acc('chains::intermediate-without-basic-constraints'),
      acc('chains::intermediate-ca-false'),
    ]),
    anyYes('keys.rsa1024.accepted', [acc('signatures::rsa1024-leaf'), acc('signatures::rsa1024-root')]),
    anyYes('signatures.sha1.accepted', [acc('signatures::sha1-leaf'), acc('signatures::sha1-intermediate')]),
    anyYes('signatures.md5.accepted', [acc('signatures::md5-leaf')]),
    refuses('signatures.corrupted.refused', [
      acc('signatures::corrupted-leaf-signature'),
      acc('signatures::corrupted-intermediate-signature'),
    ]),
    knobChanges(
      'switch.ignoreinvalidcertsign.changes-signature-checks',
      e,
      SCENARIOS.filter((s) => s.id.startsWith('signatures::') && s.kind === 'defect').map(
        (s) => [s.id, `${s.id}[ignoreinvalidcertsign=1]`] as [string, string],
      ),
    ),
    knobChanges('switch.ignoremulticertchainverify.stops-chain-checks', e, [
      ['anchors::wrong-ca', 'anchors::wrong-ca[ignoremulticertchainverify=1]'],
      ['chains::intermediate-not-sent', 'chains::intermediate-not-sent[ignoremulticertchainverify=1]'],
      ['chains::intermediate-ca-false', 'chains::intermediate-ca-false[ignoremulticertchainverify=1]'],
      ['validity::intermediate-expired', 'validity::intermediate-expired[ignoremulticertchainverify=1]'],
    ]),
    refuses('extensions.eku-without-server-auth.refused', [acc('extensions::eku-client-auth-only')]),
    refuses('extensions.unknown-critical.refused', [
      acc('extensions::unknown-critical-extension-leaf'),
      acc('extensions::unknown-critical-extension-intermediate'),
      acc('extensions::unknown-critical-extension-root'),
    ]),
    refusedAtUpload(
      'extensions.unknown-critical-root.refused-at-upload',
      e,
      'extensions::unknown-critical-extension-root',
    ),
    refusedBeforeDiallingAnswer(e),
    anyYes('extensions.name-constraints.processed', [
      acc('extensions::name-constraints-exclude-dialled-name~twin'),
    ]),
    versionsAnswer(e),
    suitesAnswer(e),
    anyYes('tls.tls13.spoken', [acc('tls::server-tls13-only')]),
    anyYes('tls.fragmented-handshake.reassembled', [acc('tls::handshake-fragmented-512')]),
    everyRungAnswer('tls.fragmented-handshake.every-size-reassembled', e, SCENARIOS, 'handshake-fragment', 0),
    anyYes('tls.old-version-server.accepted', [acc('tls::server-tls10-only'), acc('tls::server-tls11-only')]),
    offersExtension('tls.alpn.offered', e, 16, 'application_layer_protocol_negotiation'),
    secureRenegotiationAnswer(e),
    offersExtension('tls.max-fragment-length.offered', e, 1, 'max_fragment_length'),
    offersExtension('tls.session-ticket.offered', e, 35, 'session_ticket'),
    ...sessionAnswers(e),
    serverHelloAnswer(e),
    sizeLadderAnswer('size.served-chain.16k-accepted', e, SCENARIOS, 'served-chain-bytes'),
    sizeLadderAnswer('size.server-certificate.16k-accepted', e, SCENARIOS, 'leaf-bytes'),
    sizeLadderAnswer('size.anchor-file.50-used', e, SCENARIOS, 'anchor-count'),
    everyRungAnswer('keys.server-key.every-type-accepted', e, SCENARIOS, 'leaf-key', 2),
    anyYes('keys.ed25519.accepted', [acc('keys::leaf-ed25519')]),
    anyYes('uploads.pem-crlf.verifies', [acc('uploads::pem-crlf')]),
    anyYes('uploads.der.verifies', [acc('uploads::der')]),
    allYes('uploads.pem-variants.verify', [
      acc('uploads::pem-crlf'),
      acc('uploads::pem-bom'),
      acc('uploads::pem-trailing-bytes'),
    ]),
    allYes('chains.field-paths.followed', [
      acc('chains::cross-signed-root-old-anchor'),
      acc('chains::sha1-cert-above-anchor'),
      acc('chains::expired-cross-sign-beside-valid'),
    ]),
    clientCertAnswer(e),
    rebindAnswer(e),
    rebootSettingsAnswer(e),
    rebootFilesAnswer(e),
  ];
}

/** Writes trust-model.json into the run folder (what reports/ and `trustlab diff` read). */
export function writeTrustModel(outDir: string, records: readonly CaseRecord[]): TrustModelAnswer[] {
  const model = inferTrustModel(records);
  writeFileSync(join(outDir, TRUST_MODEL_FILE), `${JSON.stringify(model, null, 2)}\n`);
  return model;
}
