import type { EndpointHandle } from '../brokers/endpoint.ts';
import type { ConnectionObservation } from '../brokers/observation.ts';
import type { PkiSpec } from '../certs/pki-spec.ts';
import type { CaseOutcome, LabNetwork } from '../contracts/case.ts';
import {
  ROTATION_PLAN,
  type RotationEndpoint,
  type RotationKind,
  type RotationOutcome,
  type RotationSide,
  type RotationStep,
  type RotationStepPlan,
} from '../harness/drivers/rotation.ts';
import { stepMqtt } from '../harness/drivers/rotation-step.ts';
import { familyNamed } from '../harness/families.ts';
import type { OpenDevice } from '../harness/runner/device.ts';
import { type CaseEndpoint, startCaseEndpoint } from '../harness/runner/run-case.ts';
import {
  appendCaseRecord,
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
import { judgeStep } from './judge.ts';
import { intentFor, labNames, pkiFor } from './plan-case.ts';
import { PROFILE_NAMES, type ProfileName } from './profiles.ts';
import { DEFAULT_SETTINGS, type DeviceSettings, type ProfileExpectation } from './scenario-model.ts';
import { SANITY, SCENARIOS } from './scenarios.ts';
import { selectNamed } from './select-cases.ts';
import { type ServerSight, tieObservations } from './step-observations.ts';

/**
 * CA rotation in the field (as field support threads describe it), run by the driver's `runRotationCase`. Both run in
 * the default matrix: together they cost four plus two connections and ONE module reboot per run
 * (counted against the reset budget), which the brief's bar for the default matrix allows; the
 * answer they give (does a rebind take effect, what survives a reboot) is per firmware, so a
 * changed firmware must show it in every ordinary run.
 */
export interface RotationScenario {
  readonly id: string;
  readonly title: string;
  readonly kind: RotationKind;
  /**
   * What the vendor documents, when the family's own module has no text of its own
   * (`rotationDocumented`); the record holds what the device did, never this text.
   */
  readonly documented: string;
  readonly settings: DeviceSettings;
  /** The decisive connection (after the rebind / after the reboot) must publish. */
  readonly expected: Readonly<Record<ProfileName, ProfileExpectation>>;
  /** Module reboots one run of the scenario costs (each counted against the reset budget). */
  readonly reboots: 0 | 1;
}

const acceptAll = (because: string): Record<ProfileName, ProfileExpectation> =>
  Object.fromEntries(PROFILE_NAMES.map((p) => [p, { result: 'accept', because }])) as Record<
    ProfileName,
    ProfileExpectation
  >;

export const ROTATION_SCENARIOS: readonly RotationScenario[] = [
  {
    id: 'rotation::rebind-without-reboot',
    title: 'New CA under a new name, context rebound, reconnect without reboot, old file deleted after',
    kind: 'rebind',
    documented:
      'QSSLCFG "takes effect immediately" (Quectel SSL application note); the support procedure: upload the new CA, AT+QSSLCFG="cacert",<ctx>,"UFS:<new>", reopen and reconnect, delete the old file after a successful reconnection',
    settings: DEFAULT_SETTINGS,
    expected: acceptAll('the rebound context is used by the next open (the support procedure)'),
    reboots: 0,
  },
  {
    id: 'rotation::settings-after-reboot',
    title: 'SSL settings and uploaded files read back across AT+CFUN=1,1',
    kind: 'reboot',
    documented:
      'QSSLCFG "configurations will not be saved" (Quectel SSL application note); UFS is the persistent user file store',
    settings: DEFAULT_SETTINGS,
    expected: acceptAll('the CA file uploaded before the reboot is usable after it without a new upload'),
    reboots: 1,
  },
];

/** The decisive step of each kind: the connection whose outcome is the case's. */
const DECISIVE: Record<RotationKind, string> = {
  rebind: ROTATION_PLAN.rebind[2].name,
  reboot: ROTATION_PLAN.reboot[1].name,
};

/** `--cases` patterns split: rotation and sessions ids for their own files, the rest for the catalogue matrix. */
export function splitCasePatterns(patterns: readonly string[] | undefined): {
  readonly matrix: readonly string[] | undefined;
  readonly rotation: readonly string[] | undefined;
  readonly sessions: readonly string[] | undefined;
} {
  if (!patterns || patterns.length === 0)
    return { matrix: undefined, rotation: undefined, sessions: undefined };
  const rotation = patterns.filter((p) => p.startsWith('rotation::'));
  const sessions = patterns.filter((p) => p.startsWith('sessions::'));
  const matrix = patterns.filter((p) => !p.startsWith('rotation::') && !p.startsWith('sessions::'));
  // Only rotation or sessions asked for: the catalogue shrinks to the sanity case, which gates everything.
  return { matrix: matrix.length > 0 ? matrix : [SANITY], rotation, sessions };
}

/** The rotation scenarios a run includes: all by default, else those the patterns name (`*` globs). */
export function selectRotation(patterns: readonly string[] | undefined): RotationScenario[] {
  return selectNamed(ROTATION_SCENARIOS, patterns, 'rotation');
}

/** The rotated side: the sanity chain re-issued under its own keys and names, unrelated to the old one. */
export function rotatedPki(old: PkiSpec): PkiSpec {
  return {
    ...old,
    name: `${old.name} rotated`,
    certs: old.certs.map((c) => ({
      ...c,
      keySlot: `rotation-${c.keySlot ?? c.ref}`,
      ...(c.role === 'root' ? { commonName: 'TrustLab Rotation Root B' } : {}),
    })),
  };
}

/** One step as recorded: the device's side and what that step's server saw. */
export interface RecordedRotationStep {
  readonly name: string;
  readonly anchors: RotationSide;
  readonly server: RotationSide;
  readonly outcome: CaseOutcome;
  /** Why the outcome is what it is, where the step alone cannot say (no observation tied to it). */
  readonly why?: string;
  readonly codes: readonly string[];
  readonly reached: RotationStep['reached'];
  readonly serverSaw: {
    readonly handshake: string;
    readonly clientAlert: string | null;
    readonly sni: string | null;
    /** The MQTT client id the connection carried: what ties it to the step without doors. */
    readonly clientId: string | null;
    readonly published: boolean;
    /** The server resumed an earlier session: the device was shown no certificate on this step. */
    readonly resumed?: boolean | null;
  } | null;
}

/** What results.jsonl holds for a rotation case, beyond the common record. */
export type RotationRecord = SuiteRecord & {
  readonly rotation: {
    readonly kind: RotationKind;
    readonly documented: string;
    readonly steps: readonly RecordedRotationStep[];
    readonly stores: RotationOutcome['stores'];
    readonly rebind: RotationOutcome['rebind'];
    readonly oldDeleted: RotationOutcome['oldDeleted'];
    readonly reboot: RotationOutcome['reboot'];
  };
};

function recordStep(
  s: RotationStep,
  obs: ConnectionObservation | undefined,
  topic: string,
): { step: RecordedRotationStep; observed: ConnectionObservation[] } {
  const judged = judgeStep(s, obs, topic);
  const step: RecordedRotationStep = {
    name: s.name,
    anchors: s.anchors,
    server: s.server,
    outcome: judged.outcome,
    ...(judged.outcome === 'inconclusive' ? { why: judged.reason } : {}),
    codes: s.codes.map((c) => `${c.step}: ${c.raw}`),
    reached: s.reached,
    serverSaw: obs
      ? {
          handshake: obs.handshake,
          clientAlert: obs.clientAlert ? `${obs.clientAlert.number} ${obs.clientAlert.name}` : null,
          sni: obs.clientHello?.sni ?? null,
          clientId: obs.mqttConnect?.clientId ?? null,
          published: obs.mqttPublishes.length > 0,
          resumed: obs.resumed,
        }
      : null,
  };
  return { step, observed: obs ? [obs] : [] };
}

/** The case's steps as recorded, each with the observation tied to it (see `tieObservations`). */
function recordSteps(
  steps: readonly RotationStep[],
  sight: ServerSight,
  mqtt: { clientId: string; topic: string; payload: string },
): { step: RecordedRotationStep; observed: ConnectionObservation[] }[] {
  const tied = tieObservations(
    steps.map((s) => ({ name: s.name, server: s.server, clientId: stepMqtt(mqtt, s.name).clientId })),
    sight,
  );
  return steps.map((s) => recordStep(s, tied.get(s.name), stepMqtt(mqtt, s.name).topic));
}

/**
 * One more listening port per step onto that step's server, so each connection is told apart by
 * the port it reached. Not possible where the lab advertises a fixed port (a NAT or tunnel maps
 * only that one): then steps are told apart by their client ids alone.
 */
async function openStepDoors(
  endpoints: Readonly<Record<RotationSide, CaseEndpoint>>,
  plan: readonly RotationStepPlan[],
  opened: Map<string, EndpointHandle>,
): Promise<void> {
  if (
    endpoints.old.endpoint.advertisedPort !== undefined ||
    endpoints.new.endpoint.advertisedPort !== undefined
  )
    return;
  for (const step of plan) opened.set(step.name, await endpoints[step.server].endpoint.listenAgain());
}

/**
 * The in-device twins: the old CA must reach its own server and be refused by the new one (else the
 * two CAs are not distinct and the rotation proves nothing); reference clients must agree.
 */
function checkControls(
  s: RotationScenario,
  steps: readonly RecordedRotationStep[],
  controls: readonly ControlResult[],
): { ok: boolean; why: string } {
  const node = (label: string) => controls.find((c) => c.client === 'node' && c.detail.startsWith(label));
  const refs = [
    ['new CA → new server', 'accepted'],
    ['old CA → new server', 'rejected'],
  ] as const;
  for (const [label, want] of refs) {
    const got = node(label);
    if (got?.status !== want) return { ok: false, why: `Node tls ${label}: ${got?.status ?? 'did not run'}` };
  }
  if (s.kind === 'rebind') {
    const get = (n: string) => steps.find((x) => x.name === n)?.outcome;
    if (get('old-ca/old-server') !== 'accepted')
      return { ok: false, why: `the old CA did not reach its own server (${get('old-ca/old-server')})` };
    if (get('old-ca/new-server') !== 'rejected')
      return { ok: false, why: `the old CA was not refused by the new server (${get('old-ca/new-server')})` };
  } else if (steps[0]?.outcome !== 'accepted') {
    return { ok: false, why: `the connection before the reboot did not publish (${steps[0]?.outcome})` };
  }
  return {
    ok: true,
    why: 'old and new CA distinct (device and Node tls); the device reached the old server first',
  };
}

async function referenceControls(
  endpoints: Readonly<Record<RotationSide, CaseEndpoint>>,
  lab: LabNetwork,
  sni: boolean,
): Promise<ControlResult[]> {
  const out: ControlResult[] = [];
  for (const [label, ca, server] of [
    ['new CA → new server', 'new', 'new'],
    ['old CA → new server', 'old', 'new'],
  ] as const) {
    const e = endpoints[server];
    const results = await runControls({
      connectHost: lab.listenHost,
      port: e.endpoint.listenPort,
      dialledHost: e.hierarchy.dialledHost,
      sni,
      anchorsPem: endpoints[ca].hierarchy.anchorsPem,
    });
    for (const r of results) out.push({ ...r, detail: `${label}: ${r.detail}` });
  }
  return out;
}

const subjectOf = (s: RotationScenario, settings: DeviceSettings = s.settings): RecordSubject => ({
  id: s.id,
  scenario: s.id,
  title: s.title,
  settings,
  expected: s.expected,
});

/** A rotation case that did not run: blocked by an earlier failure, or skipped (driver cannot rotate). */
export function recordRotationWithout(
  device: OpenDevice,
  s: RotationScenario,
  outDir: string,
  lab: LabNetwork,
  outcome: 'blocked' | 'skipped',
  why: string,
): SuiteRecord {
  return recordNotRun(device, subjectOf(s), outDir, lab, outcome, why);
}

/**
 * Runs one rotation scenario on the device: two endpoints (old CA's chain, new CA's chain), the
 * driver's rotation case, reference controls, and one record appended to results.jsonl through the
 * same path as every other case (transcript and PEM bundle beside it).
 */
export async function executeRotationCase(
  device: OpenDevice,
  s: RotationScenario,
  outDir: string,
  lab: LabNetwork,
): Promise<RotationRecord> {
  const names = labNames(lab, device.virtual);
  const sanity = SCENARIOS.find((x) => x.id === SANITY);
  if (!sanity) throw new Error(`no ${SANITY} scenario`);
  const settings: DeviceSettings = names.name ? s.settings : { ...s.settings, dial: 'ip' };
  const placed = pkiFor(sanity, settings, names);
  if ('skip' in placed) throw new Error(placed.skip);
  const intent = intentFor(settings);
  const startedAt = new Date().toISOString();
  const mark = device.transcript.mark();
  const endpoints: Partial<Record<RotationSide, CaseEndpoint>> = {};
  const doors = new Map<string, EndpointHandle>();
  try {
    endpoints.old = await startCaseEndpoint({ id: `${s.id}/old`, pki: placed.pki, intent }, lab);
    endpoints.new = await startCaseEndpoint({ id: `${s.id}/new`, pki: rotatedPki(placed.pki), intent }, lab);
    const both = endpoints as Record<RotationSide, CaseEndpoint>;
    const slug = s.id.replace(/[^a-z0-9]+/gi, '-');
    const mqtt = { clientId: 'trustlab-rot', topic: `trustlab/${slug}`, payload: `case=${s.id}` };
    const run = device.driver.runRotationCase;
    if (!run) throw new Error(`the ${device.driver.family} driver cannot express CA rotation`);
    await openStepDoors(both, ROTATION_PLAN[s.kind], doors);
    const dial = (side: RotationSide, port?: number): RotationEndpoint => ({
      host: both[side].hierarchy.dialledHost,
      port: port ?? both[side].endpoint.advertisedPort ?? both[side].endpoint.listenPort,
    });
    const stepServers = Object.fromEntries(
      ROTATION_PLAN[s.kind].flatMap((p) => {
        const door = doors.get(p.name);
        return door ? [[p.name, dial(p.server, door.listenPort)]] : [];
      }),
    );
    const out = await run.call(device.driver, {
      caseId: s.id,
      kind: s.kind,
      intent,
      ...(intent.deviceClock === 'validate' ? { clock: new Date() } : {}),
      ...mqtt,
      anchors: { old: both.old.hierarchy.anchorsPem ?? '', new: both.new.hierarchy.anchorsPem ?? '' },
      servers: { old: dial('old'), new: dial('new') },
      stepServers,
    });
    // Late closes are waited for on every port, so each record is finished before it is read.
    await Promise.all([
      both.old.endpoint.settle(3_000),
      both.new.endpoint.settle(3_000),
      ...[...doors.values()].map((d) => d.settle(3_000)),
    ]);
    const copy = (h: EndpointHandle) => h.observations().map((o) => structuredClone(o));
    const seen = { old: copy(both.old.endpoint), new: copy(both.new.endpoint) };
    const atDoor = new Map([...doors].map(([name, d]) => [name, copy(d)]));
    const paired = recordSteps(out.steps, { doors: doors.size > 0 ? atDoor : null, sides: seen }, mqtt);
    const steps = paired.map((p) => p.step);
    const controls = await referenceControls(both, lab, settings.sni === 1);
    const check = checkControls(s, steps, controls);
    const decisive = steps.find((x) => x.name === DECISIVE[s.kind]);
    let outcome: CaseOutcome = decisive?.outcome ?? 'inconclusive';
    if (!out.healthy && outcome !== 'accepted') outcome = 'inconclusive';
    const story = steps.map((x) => `${x.name} ${x.outcome}${x.why ? `: ${x.why}` : ''}`).join(', ');
    const reason = [
      decisive ? `${DECISIVE[s.kind]} was ${decisive.outcome}` : `${DECISIVE[s.kind]} did not run`,
      story && `steps: ${story}`,
      out.error && `device: ${out.error}`,
      !check.ok && `no verdict: ${check.why}`,
    ]
      .filter(Boolean)
      .join('; ');
    const files = writeCaseFiles(outDir, s.id, device.transcript.since(mark), [
      ['old CA', both.old.hierarchy.anchorsPem],
      ['new CA', both.new.hierarchy.anchorsPem],
      ['chain served by the new server, leaf first', both.new.hierarchy.servedChainPem],
    ]);
    const decisiveSeen = paired.find((p) => p.step.name === DECISIVE[s.kind])?.observed ?? [];
    const subject = subjectOf(s, settings);
    const header = recordHeader(subject, device, lab);
    const record: RotationRecord = {
      ...header,
      params: { ...header.params, dialledHost: both.new.hierarchy.dialledHost },
      outcome,
      reason,
      verdicts: verdictsFor(subject, outcome, check.ok),
      codes: out.codes.map((c) => c.raw),
      server: summarizeServer(decisiveSeen),
      device: {
        ...header.device,
        reached: decisive?.reached ?? { tlsOpened: false, mqttConnected: false, publishAcked: false },
        error: out.error,
        healthy: out.healthy,
      },
      certs: {
        anchors: [...both.old.hierarchy.manifest.anchors, ...both.new.hierarchy.manifest.anchors],
        served: both.new.hierarchy.manifest.served,
      },
      ...files,
      // What the decisive step was told to send (the driver adds the step to each), for the broker check.
      mqtt: stepMqtt(mqtt, DECISIVE[s.kind]),
      controls: controls.map((r) => ({ ...r })),
      controlCheck: check,
      attempts: 1,
      startedAt,
      endedAt: new Date().toISOString(),
      rotation: {
        kind: s.kind,
        documented: familyNamed(device.driver.family).driver.rotationDocumented?.[s.kind] ?? s.documented,
        steps,
        stores: out.stores,
        rebind: out.rebind,
        oldDeleted: out.oldDeleted,
        reboot: out.reboot,
      },
    };
    return appendCaseRecord(outDir, record);
  } finally {
    for (const door of doors.values()) await door.stop();
    await endpoints.old?.endpoint.stop();
    await endpoints.new?.endpoint.stop();
  }
}
