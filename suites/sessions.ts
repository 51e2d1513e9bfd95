import type { ConnectionObservation } from '../brokers/observation.ts';
import type { CaseOutcome, LabNetwork } from '../contracts/case.ts';
import type { OpenDevice } from '../harness/runner/device.ts';
import {
  buildCaseHierarchy,
  type CaseEndpoint,
  type CaseRun,
  runDeviceAgainst,
  startCaseEndpoint,
} from '../harness/runner/run-case.ts';
import type { CaseRecord, SessionConnectionSeen } from '../reports/record.ts';
import {
  appendCaseRecord,
  attemptsTranscript,
  type RecordSubject,
  recordHeader,
  recordNotRun,
  type SuiteRecord,
  summarizeServer,
  verdictsFor,
  writeCaseFiles,
} from './case-record.ts';
import type { ControlResult } from './controls/control.ts';
import { runControls } from './controls/run-controls.ts';
import { lastTlsAttempt } from './execute.ts';
import { judgeBothEnds } from './judge.ts';
import { intentFor, labNames, pkiFor } from './plan-case.ts';
import { PROFILE_NAMES, type ProfileName } from './profiles.ts';
import { rotatedPki } from './rotation.ts';
import { DEFAULT_SETTINGS, type DeviceSettings, type ProfileExpectation } from './scenario-model.ts';
import { SANITY, SCENARIOS } from './scenarios.ts';
import { selectNamed } from './select-cases.ts';

/**
 * TLS session resumption, two connections per case on one server that keeps its session state
 * (ticket keys): the first with the sanity chain; before the second the server either keeps that
 * chain (the twin: does the device offer and resume its session?) or switches to a chain the
 * device's anchor does not verify (does a resumed session let it connect without ever seeing it?).
 * Every family's ordinary case runs twice: nothing here needs a driver of its own.
 */
export interface SessionScenario {
  readonly id: string;
  readonly title: string;
  /** What the server serves on the second connection. */
  readonly second: 'same-chain' | 'refused-chain';
  readonly twin?: string;
  readonly expected: Readonly<Record<ProfileName, ProfileExpectation>>;
}

const every = (expectation: ProfileExpectation): Record<ProfileName, ProfileExpectation> =>
  Object.fromEntries(PROFILE_NAMES.map((p) => [p, expectation])) as Record<ProfileName, ProfileExpectation>;

export const SESSION_SCENARIOS: readonly SessionScenario[] = [
  {
    id: 'sessions::resume-same-chain',
    title: 'Second connection to the same server, its chain unchanged (does the device resume?)',
    second: 'same-chain',
    expected: every({ result: 'accept', because: 'the same valid chain, resumed or verified afresh' }),
  },
  {
    id: 'sessions::resume-after-chain-change',
    title: "Second connection after the server's chain changed to one the device's anchor does not verify",
    second: 'refused-chain',
    twin: 'sessions::resume-same-chain',
    expected: {
      rfc5280: {
        result: 'reject',
        because:
          'held to the path it is shown on every connection: a full handshake refuses the new chain (reference clients do); a resumed session shows none, so the device keeps trusting a server whose certificate it would refuse',
      },
      webpki: {
        result: 'accept',
        because: 'browsers resume a ticket the server accepts (RFC 8446 §2.2); no certificate is shown again',
      },
      'mbedtls-2.28': {
        result: 'accept',
        because:
          'mbedTLS resumes a session the application kept (mbedtls_ssl_set_session) without a Certificate message',
      },
    },
  },
];

/** The scenarios a run includes: all by default, else those the patterns name (`*` globs). */
export function selectSessions(patterns: readonly string[] | undefined): SessionScenario[] {
  return selectNamed(SESSION_SCENARIOS, patterns, 'sessions');
}

/** What one of the two connections offered and got, from the server's side of it. */
export type SessionConnection = SessionConnectionSeen;

export type SessionRecord = SuiteRecord & Required<Pick<CaseRecord, 'session'>>;

/** The second connection when the first left the device faulty: never attempted. */
const NOT_RUN: SessionConnection = {
  outcome: 'inconclusive',
  reason: 'not run: the device was faulty after the first connection',
  offered: null,
  resumed: null,
  version: null,
  servedChainBytes: null,
  clientAlert: null,
};

/** The connection of a run that carried its MQTT client id, else the last one it made. */
const deviceConnection = (run: CaseRun): ConnectionObservation | undefined =>
  run.server.find((o) => o.mqttConnect?.clientId === run.mqtt.clientId) ?? run.server.at(-1);

/**
 * Whether the server resumed: its TLS stack says so once the handshake completed; before that (the
 * device refused), the ServerHello does: a TLS 1.3 PSK accepted, or a TLS ≤ 1.2 Certificate sent (full
 * handshake) or the client's own session id echoed (resumed). Null when nothing shows it.
 */
function resumedOf(o: ConnectionObservation): boolean | null {
  if (o.handshake === 'completed' && o.resumed !== null) return o.resumed;
  const hello = o.wire.serverHello;
  if (!hello) return null;
  if (hello.version === 'TLSv1.3') return hello.pskAccepted ?? null;
  if (o.wire.servedChainBytes !== null) return false;
  const asked = o.clientHello?.sessionId ?? '';
  return asked !== '' && hello.sessionId === asked ? true : null;
}

function sessionConnection(run: CaseRun, issuedSessionId: string | null): SessionConnection {
  const judged = judgeBothEnds(run.device, run.server, run.mqtt.clientId);
  const o = deviceConnection(run);
  const hello = o?.clientHello ?? null;
  const tls13 = hello?.offeredVersions.includes('TLSv1.3') ?? false;
  return {
    outcome: judged.outcome,
    reason: judged.reason,
    offered: hello
      ? {
          ticketBytes: hello.sessionTicketBytes,
          // TLS 1.3 clients send a random legacy id for middleboxes: only an id the server issued counts.
          knownSessionId: !!issuedSessionId && hello.sessionId === issuedSessionId,
          psk: tls13 && hello.extensions.includes(41),
        }
      : null,
    resumed: o ? resumedOf(o) : null,
    version: o?.negotiated?.version ?? null,
    servedChainBytes: o?.wire.servedChainBytes ?? null,
    clientAlert: o?.clientAlert ? `${o.clientAlert.number} ${o.clientAlert.name}` : null,
  };
}

/** In words: how the connection asked to resume and what it got. */
export function sessionStory(c: SessionConnection): string {
  const o = c.offered;
  const asked = !o
    ? 'no ClientHello seen'
    : o.psk
      ? 'offered a TLS 1.3 PSK'
      : (o.ticketBytes ?? 0) > 0
        ? `offered a ${o.ticketBytes}-byte session ticket`
        : o.knownSessionId
          ? "offered the server's session id"
          : 'offered no session';
  const got =
    c.resumed === true
      ? 'resumed (no certificate sent)'
      : c.resumed === false
        ? 'full handshake'
        : 'no handshake';
  return `${asked}, ${got}, ${c.outcome}${c.clientAlert ? ` (alert ${c.clientAlert})` : ''}`;
}

const subjectOf = (s: SessionScenario, settings: DeviceSettings): RecordSubject => ({
  id: s.id,
  scenario: s.id,
  title: s.title,
  settings,
  expected: s.expected,
});

/** A sessions case that did not run (an earlier failure blocked it). */
export function recordSessionWithout(
  device: OpenDevice,
  s: SessionScenario,
  outDir: string,
  lab: LabNetwork,
  why: string,
): SuiteRecord {
  return recordNotRun(device, subjectOf(s, DEFAULT_SETTINGS), outDir, lab, 'blocked', why);
}

/** Reference clients, each a fresh full handshake on a door of its own: the second chain is refused, or still accepted. */
async function controlsOnSecondChain(
  started: CaseEndpoint,
  lab: LabNetwork,
  sni: boolean,
): Promise<ControlResult[]> {
  const door = await started.endpoint.listenAgain();
  try {
    return await runControls({
      connectHost: lab.listenHost,
      port: door.listenPort,
      dialledHost: started.hierarchy.dialledHost,
      sni,
      anchorsPem: started.hierarchy.anchorsPem,
    });
  } finally {
    await door.stop();
  }
}

function checkControls(
  s: SessionScenario,
  first: SessionConnection,
  controls: readonly ControlResult[],
): { ok: boolean; why: string } {
  if (first.outcome !== 'accepted')
    return {
      ok: false,
      why: `the first connection did not publish (${first.outcome}): no session to resume`,
    };
  const want = s.second === 'refused-chain' ? 'rejected' : 'accepted';
  const node = controls.find((c) => c.client === 'node');
  if (node?.status !== want)
    return { ok: false, why: `Node tls on the second chain: ${node?.status ?? 'did not run'}, not ${want}` };
  return {
    ok: true,
    why: `first connection published; a fresh handshake with the second chain is ${want} (Node tls)`,
  };
}

/**
 * Runs one sessions scenario: one endpoint, the device's ordinary case twice (its own MQTT client
 * id each time, so each connection is told apart), the chain switched in between when the scenario
 * says so, then the reference clients against what the second connection was served.
 */
export async function executeSessionCase(
  device: OpenDevice,
  s: SessionScenario,
  outDir: string,
  lab: LabNetwork,
): Promise<SessionRecord> {
  const names = labNames(lab, device.virtual);
  const sanity = SCENARIOS.find((x) => x.id === SANITY);
  if (!sanity) throw new Error(`no ${SANITY} scenario`);
  const settings: DeviceSettings = names.name ? DEFAULT_SETTINGS : { ...DEFAULT_SETTINGS, dial: 'ip' };
  const placed = pkiFor(sanity, settings, names);
  if ('skip' in placed) throw new Error(placed.skip);
  const intent = intentFor(settings);
  const startedAt = new Date().toISOString();
  const started = await startCaseEndpoint({ id: s.id, pki: placed.pki, intent }, lab);
  try {
    const firstRun = await runDeviceAgainst(device, { id: `s1-${s.id}`, intent }, started);
    const firstSeen = deviceConnection(firstRun);
    const first = sessionConnection(firstRun, null);
    let secondServed = started;
    if (s.second === 'refused-chain') {
      const other = await buildCaseHierarchy({ pki: rotatedPki(placed.pki) });
      started.endpoint.serveChain(other.servedChainPem, other.serverKeyPem);
      secondServed = {
        endpoint: started.endpoint,
        hierarchy: { ...other, anchorsPem: started.hierarchy.anchorsPem },
      };
    }
    // A device left faulty by the first connection is not asked again: the run's health check comes first.
    const secondRun = firstRun.device.healthy
      ? await runDeviceAgainst(device, { id: `s2-${s.id}`, intent }, started)
      : null;
    const second: SessionConnection = secondRun
      ? sessionConnection(secondRun, firstSeen?.wire.serverHello?.sessionId || null)
      : NOT_RUN;
    const last = secondRun ?? firstRun;
    const controls = await controlsOnSecondChain(secondServed, lab, settings.sni === 1);
    const check = checkControls(s, first, controls);
    const healthy = firstRun.device.healthy && (secondRun?.device.healthy ?? true);
    const outcome: CaseOutcome = !healthy && second.outcome !== 'accepted' ? 'inconclusive' : second.outcome;
    const reason = [
      `first connection: ${sessionStory(first)}`,
      `second connection${s.second === 'refused-chain' ? ', after the chain changed' : ''}: ${secondRun ? sessionStory(second) : second.reason}`,
      last.device.error && `device: ${last.device.error}`,
      !check.ok && `no verdict: ${check.why}`,
    ]
      .filter(Boolean)
      .join('; ');
    const files = writeCaseFiles(
      outDir,
      s.id,
      attemptsTranscript(secondRun ? [firstRun, secondRun] : [firstRun]),
      [
        ['trust anchors uploaded to the device', started.hierarchy.anchorsPem],
        ['chain served on the first connection, leaf first', started.hierarchy.servedChainPem],
        ['chain served on the second connection, leaf first', secondServed.hierarchy.servedChainPem],
      ],
    );
    const subject = subjectOf(s, settings);
    const header = recordHeader(subject, device, lab);
    const record: SessionRecord = {
      ...header,
      ...(s.twin ? { twin: s.twin } : {}),
      params: { ...header.params, dialledHost: started.hierarchy.dialledHost },
      outcome,
      reason,
      verdicts: verdictsFor(subject, outcome, check.ok),
      codes: last.device.codes.map((c) => c.raw),
      urcs: last.device.urcs.map((u) => u.line),
      server: summarizeServer(last.server),
      device: {
        ...header.device,
        reached: last.device.reached,
        error: last.device.error ?? firstRun.device.error,
        healthy,
      },
      certs: { anchors: started.hierarchy.manifest.anchors, served: secondServed.hierarchy.manifest.served },
      ...files,
      mqtt: last.mqtt,
      controls: controls.map((r) => ({ ...r })),
      controlCheck: check,
      attempts: 1,
      virtualTls: lastTlsAttempt(last),
      startedAt,
      endedAt: new Date().toISOString(),
      session: { second: s.second, connections: [first, second] },
    };
    return appendCaseRecord(outDir, record);
  } finally {
    await started.endpoint.stop();
  }
}
