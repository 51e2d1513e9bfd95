import type { Duplex } from 'node:stream';
import { AtEngine, type AtResponse, dialectOptions } from '../../harness/at/engine.ts';
import { Transcript } from '../../harness/at/transcript.ts';
import { familyNamed } from '../../harness/families.ts';
import type { HealthCheckName, InventoryDevice } from './inventory.ts';

/**
 * pass: answered as a usable device answers. fail: answered, and the answer rules the device out.
 * not-answered: no final result within the bound, or a bare ERROR (the command is not there).
 * not-run: an earlier check showed the device is not talking.
 */
export type CheckStatus = 'pass' | 'fail' | 'not-answered' | 'not-run';

export interface CheckResult {
  readonly name: HealthCheckName;
  readonly status: CheckStatus;
  /** What was sent and what came back (final result and lines), verbatim. */
  readonly exchanges: readonly { command: string; final: string; lines: readonly string[] }[];
  readonly detail: string;
  /** Not answered, and the inventory says this device is known not to answer it. */
  readonly allowed?: boolean;
}

export interface HealthReport {
  readonly device: string;
  readonly healthy: boolean;
  /** Why the device is excluded (the first check that rules it out), null when healthy. */
  readonly reason: string | null;
  readonly checks: readonly CheckResult[];
  readonly reported: { model: string | null; firmware: string | null };
  readonly startedAt: string;
  readonly durationMs: number;
}

const NO_ANSWER = '(no answer)';

/** 3GPP TS 27.007 <stat> of +CEREG / +CREG. */
const REGISTRATION: Record<string, string> = {
  '0': 'not registered, not searching',
  '1': 'registered, home network',
  '2': 'not registered, searching',
  '3': 'registration denied',
  '4': 'unknown',
  '5': 'registered, roaming',
};

class Exchanges {
  readonly list: { command: string; final: string; lines: string[] }[] = [];
  constructor(
    readonly at: AtEngine,
    readonly timeoutMs: number,
  ) {}

  /** One read-only query, bounded; a timeout or a lost link is an answer of its own ("no answer"). */
  async ask(command: string): Promise<AtResponse | null> {
    try {
      const r = await this.at.command(command, { timeoutMs: this.timeoutMs });
      this.list.push({ command, final: r.final, lines: r.lines });
      return r;
    } catch (error) {
      this.list.push({ command, final: NO_ANSWER, lines: [(error as Error).message] });
      return null;
    }
  }

  take() {
    return this.list.splice(0);
  }
}

/** A final result that is the device saying something (OK or a numbered error), not refusing the command. */
const answered = (r: AtResponse | null): r is AtResponse => r !== null && r.final !== 'ERROR';

const notAnswered = (r: AtResponse | null, command: string) =>
  r === null ? `${command}: no answer` : `${command}: ${r.final} (not implemented here?)`;

/**
 * The pre-run health check: AT, identity (model and firmware against the inventory), SIM,
 * registration, PDP context and APN. Read-only queries only, each bounded; the device is left as
 * it was found. A check the device does not answer is reported as such, never as passed.
 */
export async function checkHealth(
  stream: Duplex,
  device: InventoryDevice,
  options: { timeoutMs: number; transcript?: Transcript },
): Promise<HealthReport> {
  const started = Date.now();
  const at = new AtEngine(stream, {
    transcript: options.transcript ?? new Transcript(),
    defaultTimeoutMs: options.timeoutMs,
    // Resync probes are bounded like the checks: a hung device costs seconds, not minutes.
    resyncTimeoutMs: options.timeoutMs,
    ...dialectOptions(familyNamed(device.driver).driver.at),
  });
  const q = new Exchanges(at, options.timeoutMs);
  const checks: CheckResult[] = [];
  const reported = { model: null as string | null, firmware: null as string | null };
  const add = (name: HealthCheckName, status: CheckStatus, detail: string) =>
    checks.push({
      name,
      status,
      exchanges: q.take(),
      detail,
      ...(status === 'not-answered' && device.allowUnanswered.includes(name) ? { allowed: true } : {}),
    });

  const ping = await q.ask('AT');
  if (ping?.ok) add('at', 'pass', 'AT: OK');
  else {
    add('at', ping ? 'fail' : 'not-answered', ping ? `AT: ${ping.final}` : 'AT: no answer');
    const rest: HealthCheckName[] = [
      'identity',
      'sim',
      'registration',
      'pdp',
      ...(device.apn ? (['apn'] as const) : []),
    ];
    for (const name of rest) {
      checks.push({ name, status: 'not-run', exchanges: [], detail: 'the device did not answer AT' });
    }
    return finish(device, checks, reported, started);
  }

  await identityCheck(q, device, reported, add);

  const cpin = await q.ask('AT+CPIN?');
  const pin = cpin?.lines
    .find((l) => l.startsWith('+CPIN:'))
    ?.slice(6)
    .trim();
  if (cpin?.ok && pin === 'READY') add('sim', 'pass', '+CPIN: READY');
  else if (answered(cpin))
    add('sim', 'fail', cpin.ok ? `SIM not ready: +CPIN: ${pin ?? '?'}` : `AT+CPIN?: ${cpin.final}`);
  else add('sim', 'not-answered', notAnswered(cpin, 'AT+CPIN?'));

  await registrationCheck(q, device, add);
  await pdpCheck(q, device, add);
  if (device.apn) await apnCheck(q, device.apn, add);
  return finish(device, checks, reported, started);
}

type Add = (name: HealthCheckName, status: CheckStatus, detail: string) => void;

async function identityCheck(
  q: Exchanges,
  device: InventoryDevice,
  reported: { model: string | null; firmware: string | null },
  add: Add,
): Promise<void> {
  // Each dialect asks its own identity commands (ATI and AT+QGMR, AT+CGMM and AT+CGMR, …).
  const answer = await familyNamed(device.driver).driver.health.identity((command) => q.ask(command));
  if ('unanswered' in answer)
    return add('identity', 'not-answered', notAnswered(answer.answer, answer.unanswered));
  reported.model = answer.model;
  const revisions = [...answer.revisions];
  reported.firmware = revisions.at(-1) ?? null;
  const said = `model ${reported.model ?? '?'}, firmware ${revisions.join(' / ') || '?'}`;
  if (device.model && reported.model !== device.model) {
    return add('identity', 'fail', `expected model ${device.model}, the device says ${said}`);
  }
  if (device.firmware && !revisions.includes(device.firmware)) {
    return add('identity', 'fail', `expected firmware ${device.firmware}, the device says ${said}`);
  }
  if (revisions.length === 0)
    return add('identity', 'not-answered', `no firmware revision in the answer (${said})`);
  add('identity', 'pass', said);
}

async function registrationCheck(q: Exchanges, device: InventoryDevice, add: Add): Promise<void> {
  const queries = familyNamed(device.driver).driver.health.registration;
  const refused: string[] = [];
  for (const command of queries) {
    const r = await q.ask(command);
    if (!answered(r)) {
      refused.push(notAnswered(r, command));
      continue;
    }
    const prefix = command.slice(2, -1); // +CEREG / +CREG
    const line = r.lines.find((l) => l.startsWith(`${prefix}:`));
    const stat = line
      ?.slice(prefix.length + 1)
      .split(',')[1]
      ?.trim();
    if (!r.ok || stat === undefined)
      return add('registration', 'fail', `${command}: ${r.final} ${line ?? ''}`.trim());
    const meaning = REGISTRATION[stat] ?? `stat ${stat}`;
    return add('registration', stat === '1' || stat === '5' ? 'pass' : 'fail', `${line}: ${meaning}`);
  }
  add('registration', 'not-answered', refused.join('; '));
}

async function pdpCheck(q: Exchanges, device: InventoryDevice, add: Add): Promise<void> {
  const command = familyNamed(device.driver).driver.health.pdp;
  const r = await q.ask(command);
  if (!answered(r)) return add('pdp', 'not-answered', notAnswered(r, command));
  if (!r.ok) return add('pdp', 'fail', `${command}: ${r.final}`);
  // +QIACT: <cid>,<state>,<type>,"<ip>"  /  +CGACT: <cid>,<state>
  const active = r.lines.filter((l) => /^\+(QIACT|CGACT):\s*\d+,1\b/.test(l));
  if (active.length > 0) return add('pdp', 'pass', active.join('; '));
  add('pdp', 'fail', `no active PDP context (${r.lines.join('; ') || 'no context listed'})`);
}

async function apnCheck(q: Exchanges, apn: string, add: Add): Promise<void> {
  const r = await q.ask('AT+CGDCONT?');
  if (!answered(r)) return add('apn', 'not-answered', notAnswered(r, 'AT+CGDCONT?'));
  if (!r.ok) return add('apn', 'fail', `AT+CGDCONT?: ${r.final}`);
  // +CGDCONT: <cid>,"<type>","<apn>",...
  const apns = r.lines
    .map((l) => /^\+CGDCONT:\s*\d+,"[^"]*","([^"]*)"/.exec(l)?.[1])
    .filter((a) => a !== undefined);
  const match = apns.some(
    (a) => a.toLowerCase() === apn.toLowerCase() || a.toLowerCase().startsWith(`${apn.toLowerCase()}.`),
  );
  add(
    'apn',
    match ? 'pass' : 'fail',
    match ? `APN ${apn} defined` : `APN ${apn} not among ${apns.join(', ') || 'none'}`,
  );
}

function finish(
  device: InventoryDevice,
  checks: CheckResult[],
  reported: { model: string | null; firmware: string | null },
  started: number,
): HealthReport {
  const blocking = checks.find((c) => c.status === 'fail' || (c.status === 'not-answered' && !c.allowed));
  return {
    device: device.name,
    healthy: blocking === undefined,
    reason: blocking ? `${blocking.name} ${blocking.status}: ${blocking.detail}` : null,
    checks,
    reported,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  };
}

/** One line per check, for the terminal and the lab summary. */
export function describeHealth(report: HealthReport): string[] {
  return report.checks.map(
    (c) => `${c.name}: ${c.status}${c.allowed ? ' (allowed by the inventory)' : ''} — ${c.detail}`,
  );
}
