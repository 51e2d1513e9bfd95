import type { AtEngine, AtResponse } from '../../at/engine.ts';
import { TRANSIENT_RETRIES } from '../../at/engine.ts';
import { AtTimeoutError, AtUnexpectedUrcError } from '../../at/errors.ts';
import { anchorStep } from '../anchor-step.ts';
import { runCaseFrame } from '../case-frame.ts';
import type { CaseLog } from '../case-log.ts';
import { RunClock, setCaseClock } from '../cclk.ts';
import { type CaseSetup, contentHash, DeltaState, setupFor } from '../delta-state.ts';
import type { DeviceIdentity, DeviceOutcome, ModemDriver, MqttCaseInput } from '../driver.ts';
import { fieldFrom, IDENTITY_PATTERNS, identifyReliably, identityField } from '../identity.ts';
import { awaitRegistration } from '../registration.ts';
import type { RestoreJournal } from '../restore-journal.ts';
import type { RestoreStack } from '../restore-stack.ts';
import {
  type RebootObservation,
  ROTATION_PLAN,
  type RotationCaseInput,
  type RotationOutcome,
  type RotationSide,
  type RotationStep,
  type RotationStepPlan,
} from '../rotation.ts';
import { compareReadBack, runRotationStep } from '../rotation-step.ts';
import type { CapabilityDump } from '../test-answers.ts';
import { inexpressible, type SettingAsFound, type TlsCapabilities } from '../tls-intent.ts';
import { SIMCOM_A76XX_AT } from './at-dialect.ts';
import { SimcomCertificates } from './certs.ts';
import {
  CAPABILITY_PROBES,
  cipherSuiteKey,
  simcomTlsCapabilities,
  sniAsFound,
  sslServerType,
  sslValuesFor,
} from './intent.ts';
import { DOCUMENTED_KEYS, formatSslValue, listedSslKeys, parseContext, sameSslValue } from './ssl-context.ts';
import {
  DISCONNECT_TIMEOUT_S,
  PUBLISH_TIMEOUT_S,
  SIMCOM_A76XX_TIMEOUTS,
  type SimcomA76xxTimeouts,
} from './timeouts.ts';

/** The device resources this harness may touch; everything else on the module is left alone. */
export interface SimcomOwnership {
  /** Certificate names the harness creates start with this. */
  readonly filePrefix: string;
  /** SSL context (0–9). */
  readonly sslContext: number;
  /** MQTT client index (0–1). */
  readonly mqttClient: number;
}

/** Context and client 1: product code (TinyGSM, the vendor's examples) takes 0. */
export const DEFAULT_SIMCOM_OWNERSHIP: SimcomOwnership = {
  filePrefix: 'trustlab_',
  sslContext: 1,
  mqttClient: 1,
};

/** SSL contexts 0–9 and MQTT clients 0–1, as the A76XX test answers list them. */
export const SIMCOM_INDEX_RANGES = {
  sslContext: { min: 0, max: 9 },
  mqttClient: { min: 0, max: 1 },
} as const;

/** +CMQTTCONNECT results 27–31 are the broker's CONNACK refusals: the TLS session itself was up. */
const CONNACK_REFUSALS = new Set(['27', '28', '29', '30', '31']);

const quote = (s: string) => `"${s.replaceAll('"', '')}"`;
const lastField = (line: string) => line.split(',').at(-1)?.trim() ?? '';

interface UrcResult {
  readonly line: string;
  readonly expected: boolean;
}

/** Values of `Key: value` lines (ATI / AT+SIMCOMATI answer this way), by key. */
function keyed(r: AtResponse | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!r?.ok) return out;
  for (const l of r.lines) {
    const m = /^([A-Za-z ]+):\s*(.*)$/.exec(l);
    if (m?.[1] && !out.has(m[1])) out.set(m[1], m[2] ?? '');
  }
  return out;
}

/**
 * SIMCom A76xx (A7670/A7672/A7608, ASR platform) dialect: certificates through AT+CCERTDOWN, SSL
 * contexts through AT+CSSLCFG, MQTT(S) through AT+CMQTT*. Which keys, values and server types the
 * module has comes from its own test answers; the key order of a context read-back comes from its
 * test answer too. Result codes are recorded raw. Sources: SOURCES.md beside this file.
 */
export class SimcomA76xxDriver implements ModemDriver {
  readonly family = 'simcom-a76xx';
  readonly #at: AtEngine;
  readonly #own: SimcomOwnership;
  readonly #t: SimcomA76xxTimeouts;
  readonly #certs: SimcomCertificates;
  #capabilities: CapabilityDump | null = null;
  #asFound: SettingAsFound[] | null = null;
  #current: RestoreStack | null = null;
  /** The owned context as the case set it: checked again after each connection. */
  #expected: Map<string, string> | null = null;
  /** Settings kept between cases (delta configuration), or null: every case from scratch. */
  readonly #delta: DeltaState | null;
  readonly #journal: RestoreJournal | null;
  readonly #clock: RunClock;

  constructor(
    at: AtEngine,
    ownership = DEFAULT_SIMCOM_OWNERSHIP,
    timeouts: SimcomA76xxTimeouts = SIMCOM_A76XX_TIMEOUTS,
    options: { readonly delta?: boolean; readonly journal?: RestoreJournal | null } = {},
  ) {
    for (const key of ['sslContext', 'mqttClient'] as const) {
      const { min, max } = SIMCOM_INDEX_RANGES[key];
      const v = ownership[key];
      if (!(Number.isInteger(v) && v >= min && v <= max))
        throw new Error(`SIMCom ${key} must be a whole number from ${min} to ${max}, got ${v}`);
    }
    this.#at = at;
    at.speak(SIMCOM_A76XX_AT);
    this.#own = ownership;
    this.#t = timeouts;
    this.#certs = new SimcomCertificates(at, ownership.filePrefix, timeouts);
    this.#journal = options.journal ?? null;
    this.#delta = options.delta === true ? new DeltaState(this.#journal) : null;
    this.#clock = new RunClock({ at, timeoutMs: timeouts.basic });
  }

  get certificates(): SimcomCertificates {
    return this.#certs;
  }

  async identify(): Promise<DeviceIdentity> {
    const basic = { timeoutMs: this.#t.basic };
    const capabilities = await this.capabilities();
    return identifyReliably(async () => {
      const ati = await this.#at.command('ATI', basic);
      const simcomati = await this.#at.command('AT+SIMCOMATI', basic);
      const cgmr = await this.#at.command('AT+CGMR', basic);
      const cgsn = await this.#at.command('AT+CGSN', basic);
      const cclk = await this.#at.command('AT+CCLK?', basic);
      // Both answer `Manufacturer: …`, `Model: …`, `Revision: …` lines; AT+CGMR the fuller revision.
      const info = new Map([...keyed(ati), ...keyed(simcomati)]);
      const revision = /^\+CGMR:\s*(.*)$/.exec(
        cgmr.ok ? (cgmr.lines.find((l) => l.startsWith('+CGMR:')) ?? '') : '',
      )?.[1];
      return {
        identity: {
          manufacturer: identityField(info.get('Manufacturer'), IDENTITY_PATTERNS.manufacturer) ?? 'unknown',
          model: identityField(info.get('Model'), IDENTITY_PATTERNS.model) ?? 'unknown',
          firmware:
            identityField(revision, IDENTITY_PATTERNS.firmware) ??
            identityField(info.get('Revision'), IDENTITY_PATTERNS.firmware) ??
            'unknown',
          imei:
            identityField(info.get('IMEI'), IDENTITY_PATTERNS.imei) ??
            fieldFrom(cgsn, IDENTITY_PATTERNS.imei),
          clock: cclk.ok ? (cclk.lines.find((l) => l.startsWith('+CCLK:')) ?? null) : null,
          capabilities: Object.fromEntries(
            Object.entries(capabilities).map(([k, v]) => [k, v ?? ['(refused)']]),
          ),
        },
        answers: [ati, simcomati, cgmr, cgsn],
      };
    });
  }

  /** Capabilities from the test answers, and the owned context's SNI switch as found (read once, before any case). */
  async tlsCapabilities(): Promise<TlsCapabilities> {
    const caps = await this.capabilities();
    if (this.#asFound === null) {
      const r = await this.#at.command(`AT+CSSLCFG=${this.#own.sslContext}`, { timeoutMs: this.#t.basic });
      const read = parseContext(r.ok ? r.lines : [], this.#own.sslContext, this.#keys(caps));
      this.#asFound = [sniAsFound(read?.line ?? r.final, read?.values.get('enableSNI'))];
    }
    return simcomTlsCapabilities(caps, this.#asFound);
  }

  /** The device's test-command answers, captured once and kept for every later case. */
  async capabilities(): Promise<CapabilityDump> {
    if (this.#capabilities) return this.#capabilities;
    const dump: Record<string, readonly string[] | null> = {};
    for (const probe of CAPABILITY_PROBES) {
      const r = await this.#at.command(probe, { timeoutMs: this.#t.basic });
      dump[probe] = r.ok ? r.lines : null;
    }
    this.#capabilities = dump;
    return dump;
  }

  async abort(): Promise<string[]> {
    return [...((await this.#current?.unwind()) ?? []), ...(await this.restoreAll())];
  }

  /** Puts back every setting, certificate and the clock the run kept between cases. */
  async restoreAll(): Promise<string[]> {
    const failures = (await this.#delta?.restore()) ?? [];
    this.#clock.reset();
    return failures;
  }

  async runMqttCase(input: MqttCaseInput): Promise<DeviceOutcome> {
    return this.#runCase(async (stack, log) => {
      const caps = await this.#checked(input);
      const setup = setupFor(this.#delta, stack);
      const client: Record<string, string> = {};
      const reloaded = new Set<string>();
      if (input.clientCertificate) {
        for (const [key, name, pem] of [
          ['clientcert', 'client.pem', input.clientCertificate.certPem],
          ['clientkey', 'client_key.pem', input.clientCertificate.keyPem],
        ] as const) {
          const cert = await this.#uploadOwned(name, pem, setup);
          client[key] = cert.name;
          if (cert.uploaded) reloaded.add(key);
        }
      }
      const pem = input.anchorsPem;
      const der = input.anchorsDer;
      const ca = der
        ? await anchorStep(log, 'upload', () => this.#uploadOwned('ca.der', der, setup))
        : pem === null
          ? { name: '', uploaded: false }
          : await anchorStep(log, 'upload', () => this.#uploadOwned('ca.pem', pem, setup));
      if (ca.uploaded) reloaded.add('cacert');
      await this.#configureSsl(input, ca.name, caps, setup, log, client, reloaded);
      if (setup.delta) await this.#clock.ensure(input.clock ?? null, setup.stack);
      else if (input.clock)
        await setCaseClock({ at: this.#at, timeoutMs: this.#t.basic }, input.clock, stack);
      await this.#mqttSession(input, caps, stack, log);
    });
  }

  /**
   * CA rotation in this dialect. `rebind`: the new CA downloaded under a new name, "cacert" of the
   * owned context rebound to it (read back), reconnect; the old name deleted only after the rebound
   * connection published. `reboot`: AT+CRESET until the boot banner, the context, the client's SSL
   * binding and the owned names read back before and after, then configured again from the
   * surviving certificate and reconnected.
   */
  async runRotationCase(input: RotationCaseInput): Promise<RotationOutcome> {
    const steps: RotationStep[] = [];
    const stores: Partial<Record<RotationSide, string>> = {};
    let rebind: RotationOutcome['rebind'] = null;
    let oldDeleted: RotationOutcome['oldDeleted'] = null;
    let reboot: RebootObservation | null = null;
    const base = { intent: input.intent, anchorsPem: null } as const;
    const outcome = await this.#runCase(async (stack, log) => {
      // Rotation reads and reboots on its own terms: it starts from the device as found.
      const notRestored = await this.restoreAll();
      if (notRestored.length > 0)
        throw new Error(`restore before rotation failed: ${notRestored.join('; ')}`);
      const caps = await this.#checked(base);
      const setup: CaseSetup = { stack, delta: null };
      const first: RotationSide = input.kind === 'rebind' ? 'old' : 'new';
      stores[first] = (await this.#uploadOwned(`rot_${first}_ca.pem`, input.anchors[first], setup)).name;
      await this.#configureSsl(base, stores[first], caps, setup, log);
      if (input.clock) await setCaseClock({ at: this.#at, timeoutMs: this.#t.basic }, input.clock, stack);
      const step = async (plan: RotationStepPlan) => {
        const s = await runRotationStep(input, plan, log, (mqtt, stepStack, stepLog) =>
          this.#mqttSession(mqtt, caps, stepStack, stepLog),
        );
        steps.push(s);
        return s;
      };
      if (input.kind === 'rebind') {
        if (!(await step(ROTATION_PLAN.rebind[0])).reached.publishAcked) return;
        await step(ROTATION_PLAN.rebind[1]);
        stores.new = (await this.#uploadOwned('rot_new_ca.pem', input.anchors.new, setup)).name;
        rebind = await this.#rebindCa(stores.new, caps, log);
        if (!rebind) return;
        if (!(await step(ROTATION_PLAN.rebind[2])).reached.publishAcked) return;
        await step(ROTATION_PLAN.rebind[3]);
        const del = await this.#at.command(`AT+CCERTDELE="${stores.old}"`, { timeoutMs: this.#t.basic });
        oldDeleted = { step: `delete ${stores.old}`, raw: del.final, at: new Date().toISOString() };
        log.code('delete old CA', del.final);
        return;
      }
      if (!(await step(ROTATION_PLAN.reboot[0])).reached.publishAcked) return;
      reboot = await this.#rebootAndReadBack(caps, log);
      await this.#configureSsl(base, stores.new as string, caps, setup, log);
      if (input.clock) await setCaseClock({ at: this.#at, timeoutMs: this.#t.basic }, new Date(), stack);
      await step(ROTATION_PLAN.reboot[1]);
    });
    return { ...outcome, kind: input.kind, steps, stores, rebind, oldDeleted, reboot };
  }

  /** The keys of a context read-back, in the module's order. */
  #keys(caps: CapabilityDump): readonly string[] {
    return listedSslKeys(caps) ?? DOCUMENTED_KEYS;
  }

  /** The capabilities, after refusing an intent this module cannot express (nothing has been sent for the case). */
  async #checked(input: Pick<MqttCaseInput, 'intent'>): Promise<CapabilityDump> {
    const caps = await this.capabilities();
    const cannot = inexpressible(input.intent, simcomTlsCapabilities(caps, []), this.family);
    if (cannot) throw new Error(cannot);
    return caps;
  }

  /**
   * Downloads one owned certificate, deleted when its stack unwinds. Under delta configuration a
   * certificate whose content the module already holds under that name is not sent again.
   */
  async #uploadOwned(
    name: string,
    content: string | Buffer,
    { stack, delta }: CaseSetup,
  ): Promise<{ name: string; uploaded: boolean }> {
    const owned = this.#certs.ownedName(name);
    const hash = contentHash(content);
    const held = delta?.files.get(owned);
    if (held?.hash === hash) return { name: owned, uploaded: false };
    // Pushed before the download: a failed or torn download still leaves a name of ours to remove.
    if (!delta || delta.firstChange(owned))
      stack.push(
        `delete ${owned}`,
        async () => {
          if ((await this.#certs.list()).includes(owned)) await this.#certs.delete(owned);
        },
        { commands: [`AT+CCERTDELE="${owned}"`], bestEffort: true },
      );
    delta?.files.delete(owned);
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    await this.#certs.download(owned, bytes, held !== undefined);
    delta?.files.set(owned, { hash, size: bytes.length });
    return { name: owned, uploaded: true };
  }

  async #readContext(caps: CapabilityDump): Promise<{ values: Map<string, string>; line: string }> {
    const ctx = this.#own.sslContext;
    const r = await this.#at.commandOk(`AT+CSSLCFG=${ctx}`, {
      timeoutMs: this.#t.basic,
      retries: TRANSIENT_RETRIES,
    });
    const read = parseContext(r.lines, ctx, this.#keys(caps));
    if (!read)
      throw new Error(
        `AT+CSSLCFG=${ctx} did not read back one value per listed key (${this.#keys(caps).join(', ')}): ${r.lines.join(' | ') || r.final}`,
      );
    return read;
  }

  /** Sets one key of the owned context, reads the context back, and puts the previous value on the restore stack. */
  async #writeSsl(
    key: string,
    value: string,
    previous: string,
    caps: CapabilityDump,
    { stack, delta }: CaseSetup,
    log: CaseLog,
  ): Promise<void> {
    const ctx = this.#own.sslContext;
    const command = (v: string) => `AT+CSSLCFG="${key}",${ctx},${formatSslValue(key, v)}`;
    const set = (v: string) =>
      this.#at.commandOk(command(v), { timeoutMs: this.#t.basic, retries: TRANSIENT_RETRIES });
    // Pushed before the write: a write that times out may still have happened (a late OK).
    if (!delta || delta.firstChange(`CSSLCFG ${key}`))
      stack.push(
        `CSSLCFG "${key}" ctx ${ctx} back to ${previous || '(empty)'}`,
        async () => {
          await set(previous);
          const back = (await this.#readContext(caps)).values.get(key);
          if (back === undefined || !sameSslValue(key, back, previous))
            throw new Error(`read back ${back ?? 'nothing'} after restoring ${previous || '(empty)'}`);
        },
        { commands: [command(previous)] },
      );
    delta?.settings.delete(`CSSLCFG ${key}`);
    await set(value);
    const after = await this.#readContext(caps);
    const back = after.values.get(key);
    if (back === undefined || !sameSslValue(key, back, value))
      throw new Error(`CSSLCFG "${key}" read back ${back ?? 'nothing'} after setting ${value}`);
    delta?.settings.set(`CSSLCFG ${key}`, back);
    log.readBack[`CSSLCFG ${key}`] = after.line;
  }

  /**
   * Sets every key the intent needs on the owned context, and the certificate names; each write read
   * back and undone at the end. A key the module does not list is never written.
   */
  async #configureSsl(
    input: Pick<MqttCaseInput, 'intent'>,
    ca: string,
    caps: CapabilityDump,
    setup: CaseSetup,
    log: CaseLog,
    clientFiles: Readonly<Record<string, string>> = {},
    /** Certificate keys whose file was downloaded anew: bound again under the same name, so the module reloads it. */
    reloaded: ReadonlySet<string> = new Set(),
  ): Promise<void> {
    const current = await this.#currentContext(caps, setup.delta);
    this.#expected = null;
    const desired: Record<string, string> = {
      ...sslValuesFor(input.intent, cipherSuiteKey(caps)),
      cacert: ca,
      ...clientFiles,
    };
    const needed = [
      'cacert',
      'authmode',
      'sslversion',
      'enableSNI',
      ...(input.intent.deviceClock === 'ignore' ? ['ignorelocaltime'] : []),
      ...Object.keys(clientFiles),
      ...Object.keys(desired).filter(
        (k) => !['cacert', 'authmode', 'sslversion', 'enableSNI', 'ignorelocaltime'].includes(k),
      ),
    ];
    for (const key of needed) {
      if (!current.has(key))
        throw new Error(`module does not read back "${key}" of SSL context ${this.#own.sslContext}`);
    }
    for (const [key, value] of Object.entries(desired)) {
      const previous = current.get(key);
      if (previous === undefined) continue; // not a key of this module
      if (sameSslValue(key, previous, value) && !reloaded.has(key)) {
        log.readBack[`CSSLCFG ${key}`] = `${previous || '(empty)'} (unchanged)`;
        continue;
      }
      const write = () => this.#writeSsl(key, value, previous, caps, setup, log);
      await (key === 'cacert' && value !== '' ? anchorStep(log, 'bind', write) : write());
    }
    this.#expected = new Map(Object.entries(desired).filter(([k]) => current.has(k)));
  }

  /** The owned context's values: read once, then (delta configuration) as last read or set. */
  async #currentContext(caps: CapabilityDump, delta: DeltaState | null): Promise<Map<string, string>> {
    const prefix = 'CSSLCFG ';
    if (delta?.learned)
      return new Map(
        [...delta.settings]
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      );
    const { values } = await this.#readContext(caps);
    if (delta) {
      for (const [key, value] of values) delta.settings.set(`${prefix}${key}`, value);
      delta.learned = true;
    }
    return values;
  }

  /**
   * Reads the owned context again after a connection: a module that reset its settings on its own
   * (no banner) made that connection with other settings than the case's, so nothing it did is the
   * scenario's. Throws with both values.
   */
  async #verifyContext(caps: CapabilityDump): Promise<void> {
    const expected = this.#expected;
    if (!expected) return;
    const now = await this.#readContext(caps);
    const changed = [...expected].filter(([k, v]) => !sameSslValue(k, now.values.get(k) ?? '', v));
    if (changed.length > 0)
      throw new Error(
        `SSL context ${this.#own.sslContext} changed under the case (${changed.map(([k, v]) => `${k} set ${v || '(empty)'}, now ${now.values.get(k) || '(empty)'}`).join('; ')}): the connection did not run with the case's settings`,
      );
  }

  /** AT+CSSLCFG="cacert",<ctx>,"<new>" on the owned context, read back; the raw answer either way. */
  async #rebindCa(name: string, caps: CapabilityDump, log: CaseLog): Promise<RotationOutcome['rebind']> {
    const ctx = this.#own.sslContext;
    const r = await this.#at.command(`AT+CSSLCFG="cacert",${ctx},${formatSslValue('cacert', name)}`, {
      timeoutMs: this.#t.basic,
    });
    log.code('rebind cacert', r.final);
    const back = await this.#readContext(caps).catch(() => null);
    log.readBack['CSSLCFG cacert (rebound)'] = back?.line ?? '(no answer)';
    if (!r.ok || back?.values.get('cacert') !== name) return null;
    this.#expected?.set('cacert', name);
    return { step: `rebind cacert to ${name}`, raw: r.final, at: new Date().toISOString() };
  }

  /**
   * Reads the owned context, the client's SSL binding and the owned certificate names, restarts the
   * module (AT+CRESET until its boot banner) and reads them again. What survived is what reads back the same.
   */
  async #rebootAndReadBack(caps: CapabilityDump, log: CaseLog): Promise<RebootObservation> {
    const snapshot = async () => {
      const lines: Record<string, string> = {};
      const ctx = await this.#readContext(caps).catch(() => null);
      if (ctx) for (const [k, v] of ctx.values) lines[`CSSLCFG ${k}`] = v;
      return lines;
    };
    const owned = async () => (await this.#certs.list()).filter((n) => this.#certs.owns(n));
    const before = await snapshot();
    const filesBefore = await owned();
    const mark = log.urcs.length;
    log.restarting = true;
    try {
      this.#at.clearBacklog();
      try {
        await this.#at.commandOk('AT+CRESET', { timeoutMs: this.#t.basic, restarts: true });
      } catch (err) {
        // The module may restart before its OK leaves the UART; the banner below is what counts.
        if (!(err instanceof AtTimeoutError)) throw err;
      }
      await this.#at.waitForUrc(SIMCOM_A76XX_AT.restartNotice as RegExp, { timeoutMs: this.#t.reboot });
      log.registration(
        'registration',
        await awaitRegistration({
          at: this.#at,
          basicMs: this.#t.basic,
          timeoutMs: this.#t.registration,
          pollMs: this.#t.registrationPoll,
        }),
      );
      const after = await snapshot();
      const filesAfter = await owned();
      const announced =
        log.urcs.slice(mark).find((u) => SIMCOM_A76XX_AT.restartNotice?.test(u.line))?.line ??
        'no banner seen';
      log.code('reboot', announced);
      const { kept, lost } = compareReadBack(before, after);
      const contextSettings = Object.keys(before).filter((k) => k.startsWith('CSSLCFG '));
      return { announced, before, after, kept, lost, contextSettings, filesBefore, filesAfter };
    } finally {
      log.restarting = false;
    }
  }

  /** Waits for `match`; a URC matching `failOn` ends the wait as an observation, not an error. */
  async #urc(match: RegExp, failOn: RegExp | undefined, timeoutMs: number): Promise<UrcResult> {
    try {
      return {
        line: await this.#at.waitForUrc(match, { timeoutMs, ...(failOn ? { failOn } : {}) }),
        expected: true,
      };
    } catch (err) {
      if (err instanceof AtUnexpectedUrcError) return { line: err.urc, expected: false };
      throw err;
    }
  }

  /**
   * The +CMQTTDISC result of a disconnect; when it never comes (a lost URC), the client's state as
   * `AT+CMQTTDISC?` reads it (`<idx>,1`: disconnected) is the answer, said as such in the code.
   */
  async #disconnected(idx: number): Promise<{ line: string; closed: boolean }> {
    try {
      const line = await this.#at.waitForUrc(new RegExp(`^\\+CMQTTDISC: ${idx},`), {
        timeoutMs: this.#t.disconnect,
      });
      return { line, closed: lastField(line) === '0' };
    } catch (err) {
      if (!(err instanceof AtTimeoutError)) throw err;
      const state = await this.#at.commandOk('AT+CMQTTDISC?', { timeoutMs: this.#t.basic });
      const line = state.lines.find((l) => l.startsWith(`+CMQTTDISC: ${idx},`));
      if (!line) throw err;
      return {
        line: `no +CMQTTDISC within ${this.#t.disconnect} ms; AT+CMQTTDISC? ${line}`,
        closed: lastField(line) === '1',
      };
    }
  }

  /**
   * AT+CMQTTSTART, stopped again at the end only when this case started it: a service already
   * running belongs to the product (`+CMQTTSTART: 23`, or ERROR, says so).
   */
  async #startService(stack: RestoreStack, log: CaseLog): Promise<void> {
    const r = await this.#at.command('AT+CMQTTSTART', { timeoutMs: this.#t.basic });
    // Setup answers are diagnostics: the case's codes start with what the connection did.
    if (!r.ok) return log.diagnostic('start', `${r.final} (service already running: left running)`);
    const result = await this.#urc(/^\+CMQTTSTART: /, undefined, this.#t.service);
    log.diagnostic('start', result.line);
    if (result.line !== '+CMQTTSTART: 0') return;
    stack.push(
      'stop the MQTT service',
      async () => {
        await this.#at.commandOk('AT+CMQTTSTOP', { timeoutMs: this.#t.basic });
        log.diagnostic('stop', (await this.#urc(/^\+CMQTTSTOP: /, undefined, this.#t.service)).line);
      },
      { commands: ['AT+CMQTTSTOP'], bestEffort: true },
    );
  }

  /** AT+CMQTTACCQ on the owned index; an index still held (ours, from an interrupted run) is released once and asked again. */
  async #acquire(input: MqttCaseInput, serverType: string, log: CaseLog): Promise<boolean> {
    const idx = this.#own.mqttClient;
    const ask = () =>
      this.#at.command(`AT+CMQTTACCQ=${idx},${quote(input.clientId)},${serverType}`, {
        timeoutMs: this.#t.basic,
      });
    let r = await ask();
    if (!r.ok) {
      log.code('acquire', r.final);
      await this.#at.command(`AT+CMQTTDISC=${idx},${DISCONNECT_TIMEOUT_S}`, { timeoutMs: this.#t.basic });
      await this.#at.command(`AT+CMQTTREL=${idx}`, { timeoutMs: this.#t.basic });
      r = await ask();
    }
    if (r.ok) log.diagnostic('acquire', r.final);
    else log.code('acquire', r.final);
    return r.ok;
  }

  async #mqttSession(
    input: MqttCaseInput,
    caps: CapabilityDump,
    stack: RestoreStack,
    log: CaseLog,
  ): Promise<void> {
    const idx = this.#own.mqttClient;
    const ctx = this.#own.sslContext;
    const serverType = sslServerType(caps).value;
    if (serverType === null) throw new Error('AT+CMQTTACCQ=? lists no MQTT-over-TLS server type');
    await this.#startService(stack, log);
    if (!(await this.#acquire(input, serverType, log))) return;
    stack.push(
      `release MQTT client ${idx}`,
      async () => {
        const r = await this.#at.command(`AT+CMQTTREL=${idx}`, { timeoutMs: this.#t.basic });
        log.diagnostic('release', r.final);
      },
      { commands: [`AT+CMQTTREL=${idx}`], bestEffort: true },
    );
    await this.#at.commandOk(`AT+CMQTTSSLCFG=${idx},${ctx}`, {
      timeoutMs: this.#t.basic,
      retries: TRANSIENT_RETRIES,
    });
    const bound = await this.#at.command('AT+CMQTTSSLCFG?', { timeoutMs: this.#t.basic });
    log.readBack.CMQTTSSLCFG = bound.lines.find((l) => l.startsWith(`+CMQTTSSLCFG: ${idx},`)) ?? bound.final;

    const lost = new RegExp(`^\\+CMQTTCONNLOST: ${idx},`);
    // Connected from the moment CONNECT is accepted until a result says otherwise: a lost URC must
    // still end in CMQTTDISC, or the release finds the client busy.
    const link = { connected: false };
    stack.push(
      `disconnect MQTT client ${idx}`,
      async () => {
        if (!link.connected) return;
        await this.#at.command(`AT+CMQTTDISC=${idx},${DISCONNECT_TIMEOUT_S}`, { timeoutMs: this.#t.basic });
        log.code('disconnect', (await this.#disconnected(idx)).line);
      },
      { commands: [`AT+CMQTTDISC=${idx},${DISCONNECT_TIMEOUT_S}`], bestEffort: true },
    );
    link.connected = true;
    const conn = await this.#at.command(`AT+CMQTTCONNECT=${idx},"tcp://${input.host}:${input.port}",60,1`, {
      timeoutMs: this.#t.basic,
    });
    if (!conn.ok) {
      link.connected = false;
      return log.code('connect', conn.final);
    }
    const connected = await this.#urc(new RegExp(`^\\+CMQTTCONNECT: ${idx},`), lost, this.#t.connect);
    log.code('connect', connected.line);
    await this.#verifyContext(caps);
    const result = lastField(connected.line);
    if (!connected.expected || result !== '0') {
      link.connected = false;
      if (connected.expected && CONNACK_REFUSALS.has(result)) log.reach('tls');
      return;
    }
    log.reach('tls');
    log.reach('mqttConnack');

    for (const [command, text] of [
      ['CMQTTTOPIC', input.topic],
      ['CMQTTPAYLOAD', input.payload],
    ] as const) {
      const data = Buffer.from(text, 'utf8');
      const r = await this.#at.commandWithData(`AT+${command}=${idx},${data.length}`, data, {
        prompt: '>',
        timeoutMs: this.#t.basic,
      });
      if (!r.ok) return log.code(command === 'CMQTTTOPIC' ? 'topic' : 'payload', r.final);
    }
    const pub = await this.#at.command(`AT+CMQTTPUB=${idx},1,${PUBLISH_TIMEOUT_S}`, {
      timeoutMs: this.#t.basic,
    });
    if (!pub.ok) return log.code('publish', pub.final);
    const acked = await this.#urc(new RegExp(`^\\+CMQTTPUB: ${idx},`), lost, this.#t.packet);
    log.code('publish', acked.line);
    if (!acked.expected) {
      link.connected = false;
      return;
    }
    if (lastField(acked.line) === '0') log.reach('publishAck');

    const disc = await this.#at.command(`AT+CMQTTDISC=${idx},${DISCONNECT_TIMEOUT_S}`, {
      timeoutMs: this.#t.basic,
    });
    if (!disc.ok) return log.code('disconnect', disc.final);
    const gone = await this.#disconnected(idx);
    log.code('disconnect', gone.line);
    link.connected = !gone.closed;
  }

  /** The shared case frame, with a restart mid-case as a fault. */
  async #runCase(body: (stack: RestoreStack, log: CaseLog) => Promise<void>): Promise<DeviceOutcome> {
    const outcome = await runCaseFrame(
      this.#at,
      this.#t.basic,
      {
        track: (stack) => {
          this.#current = stack;
        },
        journal: this.#journal,
        faultSeen: (log) => {
          const boot = log.unexpectedUrcs.find((u) => SIMCOM_A76XX_AT.restartNotice?.test(u.line));
          // A restart mid-case loses volatile state: whatever the case saw after it is not the scenario.
          return boot ? `module restarted during the case (${boot.line} at ${boot.at})` : null;
        },
      },
      body,
    );
    // A refused command, a restart or a lost link leaves the settings unknown: learn them again.
    if (outcome.error !== null || !outcome.healthy) {
      this.#delta?.forget();
      this.#clock.forget();
    }
    return outcome;
  }
}
