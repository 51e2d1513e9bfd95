import { CaseLog } from './case-log.ts';
import type { MqttCaseInput } from './driver.ts';
import { RestoreStack } from './restore-stack.ts';
import type { RotationCaseInput, RotationStep, RotationStepPlan } from './rotation.ts';

/** One MQTT connect + publish in the driver's dialect, on the stack and log it is given. */
export type RotationSession = (mqtt: MqttCaseInput, stack: RestoreStack, log: CaseLog) => Promise<void>;

/**
 * One connection of a rotation case, for every dialect: the step gets its own client id, topic and
 * payload (the step name added), runs on its own log and restore stack, and is closed before the
 * next one starts; its codes and diagnostics are merged into the case's log, prefixed with the step.
 * A failed close throws: the next step would find the client still in use.
 */
export async function runRotationStep(
  input: RotationCaseInput,
  plan: RotationStepPlan,
  log: CaseLog,
  session: RotationSession,
): Promise<RotationStep> {
  const { name, anchors, server } = plan;
  const startedAt = new Date().toISOString();
  const stepLog = new CaseLog();
  const stepStack = new RestoreStack();
  const dials = input.stepServers?.[name] ?? input.servers[server];
  const mqtt: MqttCaseInput = {
    caseId: `${input.caseId}/${name}`,
    anchorsPem: null,
    intent: input.intent,
    host: dials.host,
    port: dials.port,
    ...stepMqtt(input, name),
  };
  let failures: string[] = [];
  try {
    await session(mqtt, stepStack, stepLog);
  } finally {
    failures = await stepStack.unwind();
    for (const c of stepLog.codes) log.codes.push({ ...c, step: `${name}: ${c.step}` });
    for (const d of stepLog.diagnostics) log.diagnostics.push({ ...d, step: `${name}: ${d.step}` });
  }
  if (failures.length > 0) throw new Error(`after step ${name}: ${failures.join('; ')}`);
  const out = stepLog.outcome(null, true, []);
  return {
    name,
    anchors,
    server,
    codes: out.codes,
    reached: out.reached,
    startedAt,
    endedAt: new Date().toISOString(),
  };
}

/** The client id, topic and payload a step publishes with: the case's, with the step's name added. */
export function stepMqtt(
  input: Pick<RotationCaseInput, 'clientId' | 'topic' | 'payload'>,
  name: string,
): { clientId: string; topic: string; payload: string } {
  const slug = name.replace(/[^a-z0-9]+/gi, '-');
  return {
    clientId: `${input.clientId}-${slug}`.slice(0, 23),
    topic: `${input.topic}/${slug}`,
    payload: `${input.payload} step=${name}`,
  };
}

/** Settings whose raw read-back after a reboot equals the one before it (kept), and the rest (lost). */
export function compareReadBack(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): { kept: string[]; lost: string[] } {
  const keys = Object.keys(before);
  return {
    kept: keys.filter((k) => after[k] === before[k]),
    lost: keys.filter((k) => after[k] !== before[k]),
  };
}
