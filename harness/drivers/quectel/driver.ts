import { type AtEngine, TRANSIENT_RETRIES } from '../../at/engine.ts';
import { AtTimeoutError, AtUnexpectedUrcError } from '../../at/errors.ts';
import { anchorStep } from '../anchor-step.ts';
import { deviceAnswers, runCaseFrame } from '../case-frame.ts';
import type { CaseLog, RegistrationWait } from '../case-log.ts';
import { RunClock, setCaseClock } from '../cclk.ts';
import { contentHash, DeltaState, type CaseSetup as Setup, setupFor } from '../delta-state.ts';
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
import { type CapabilityDump, listedKeys } from '../test-answers.ts';
import { inexpressible, type TlsCapabilities } from '../tls-intent.ts';
import { QUECTEL_AT } from './at-dialect.ts';
import { CAPABILITY_PROBES, choosePublishForm, type PublishForm } from './capabilities.ts';
import { QuectelFiles } from './files.ts';
import { quectelTlsCapabilities, sslValuesFor, VENDOR_PREFIX } from './intent.ts';
import { ResetBudget } from './reset-budget.ts';
import {
  BASELINE_SSL_VALUES,
  DOCUMENTED_SSL_KEYS,
  formatSslValue,
  parseSslReadBack,
  sameSslValue,
} from './ssl-keys.ts';
import { QUECTEL_TIMEOUTS, type QuectelTimeouts } from './timeouts.ts';

/** The device resources this harness may touch; everything else on the module is left alone. */
export interface QuectelOwnership {
  /** Files the harness creates start with this (after the UFS: prefix). */
  readonly filePrefix: string;
  readonly sslContext: number;
  readonly mqttClient: number;
  /** Socket index for AT+QSSLOPEN (0–11). */
  readonly sslClient?: number;
}

export const DEFAULT_QUECTEL_OWNERSHIP: QuectelOwnership = {
  filePrefix: 'trustlab_',
  sslContext: 1,
  mqttClient: 1,
  sslClient: 1,
};

export interface QuectelDriverOptions {
  /** A PDP context to make sure of before opening (AT+QICSGP / AT+QIACT); absent leaves PDP to the module. */
  readonly pdp?: { readonly contextId: number; readonly apn?: string } | null;
  /** Shared counter of AT+CFUN=1,1 resets per device per day. */
  readonly resetBudget?: ResetBudget;
  /**
   * True keeps settings between cases and sends only what differs (see DeltaState; what runs use,
   * restored by restoreAll at the end of the run); absent or false configures every case from
   * scratch (read every key, set, restore at the case's end).
   */
  readonly delta?: boolean;
  /** Where every change is written before it is made, for `trustlab restore` after a crash. */
  readonly journal?: RestoreJournal | null;
}

/** What every Quectel case configures before it opens anything. */
type CaseBase = Pick<MqttCaseInput, 'anchorsPem' | 'anchorsDer' | 'intent' | 'clock' | 'clientCertificate'>;

/** A raw TLS socket case (AT+QSSLOPEN): the same TLS settings as an MQTT case, no MQTT. */
export interface TlsSocketCaseInput extends CaseBase {
  readonly caseId: string;
  readonly host: string;
  readonly port: number;
  /** Bytes sent after the handshake (AT+QSSLSEND); what comes back is read with AT+QSSLRECV. */
  readonly payload?: Buffer;
}

/** Keys every case sets; a device that does not answer them cannot run the case. */
const REQUIRED_SSL_KEYS = ['cacert', 'seclevel', 'sslversion', 'sni'] as const;

const quote = (s: string) => `"${s.replaceAll('"', '')}"`;

/** An owned file's path, and whether this case sent it (false: the device already held that content). */
interface OwnedFile {
  readonly path: string;
  readonly uploaded: boolean;
}

/** A URC wait that ends on the expected URC or on one that says the link is gone; either is an observation. */
interface UrcResult {
  readonly line: string;
  readonly expected: boolean;
}

/**
 * Quectel EC200U-CN / EC800N-CN / EC200M-CN / EC200N-CN dialect (QFUPL, QSSLCFG, QMT*, QSSL*).
 * Which keys and which publish form a module has comes from its own test-command answers, captured
 * once per device; never from its model name. Result codes are recorded raw.
 */
export class QuectelDriver implements ModemDriver {
  readonly family = 'quectel';
  readonly #at: AtEngine;
  readonly #own: QuectelOwnership;
  readonly #t: QuectelTimeouts;
  readonly #options: QuectelDriverOptions;
  readonly #files: QuectelFiles;
  #capabilities: CapabilityDump | null = null;
  #identity: DeviceIdentity | null = null;
  #current: RestoreStack | null = null;
  readonly #delta: DeltaState | null;
  readonly #journal: RestoreJournal | null;
  readonly #clock: RunClock;

  constructor(
    at: AtEngine,
    ownership = DEFAULT_QUECTEL_OWNERSHIP,
    timeouts: QuectelTimeouts = QUECTEL_TIMEOUTS,
    options: QuectelDriverOptions = {},
  ) {
    this.#at = at;
    at.speak(QUECTEL_AT);
    this.#own = ownership;
    this.#t = timeouts;
    this.#options = options;
    this.#files = new QuectelFiles(at, ownership.filePrefix, timeouts);
    this.#journal = options.journal ?? null;
    this.#delta = options.delta === true ? new DeltaState(this.#journal) : null;
    this.#clock = new RunClock({ at, timeoutMs: timeouts.basic });
  }

  get files(): QuectelFiles {
    return this.#files;
  }

  async identify(): Promise<DeviceIdentity> {
    const basic = { timeoutMs: this.#t.basic };
    const capabilities = await this.capabilities();
    this.#identity = await identifyReliably(async () => {
      const ati = await this.#at.commandOk('ATI', basic);
      const gmr = await this.#at.command('AT+GMR', basic);
      const qgmr = await this.#at.command('AT+QGMR', basic);
      const cgsn = await this.#at.command('AT+CGSN', basic);
      const cclk = await this.#at.command('AT+CCLK?', basic);
      // ATI is "<manufacturer>", "<model>", "Revision: <firmware>": anchored on the Revision line,
      // so a stray line before the answer never becomes the model.
      const at = ati.lines.findIndex((l) => l.startsWith('Revision:'));
      const revision = identityField(ati.lines[at]?.slice('Revision:'.length), IDENTITY_PATTERNS.firmware);
      const model = at >= 1 ? identityField(ati.lines[at - 1], IDENTITY_PATTERNS.model) : null;
      const manufacturer = at >= 2 ? identityField(ati.lines[at - 2], IDENTITY_PATTERNS.manufacturer) : null;
      return {
        identity: {
          manufacturer: manufacturer ?? 'unknown',
          model: model ?? 'unknown',
          firmware:
            fieldFrom(qgmr, IDENTITY_PATTERNS.firmware) ??
            fieldFrom(gmr, IDENTITY_PATTERNS.firmware) ??
            revision ??
            'unknown',
          imei: fieldFrom(cgsn, IDENTITY_PATTERNS.imei),
          clock: cclk.ok ? (cclk.lines.find((l) => l.startsWith('+CCLK:')) ?? null) : null,
          capabilities: Object.fromEntries(
            Object.entries(capabilities).map(([k, v]) => [k, v ?? ['(refused)']]),
          ),
        },
        answers: [ati, gmr, qgmr, cgsn],
      };
    });
    return this.#identity;
  }

  async tlsCapabilities(): Promise<TlsCapabilities> {
    return quectelTlsCapabilities(await this.capabilities());
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

  /** Puts back every setting, file and the clock the run changed (delta configuration); label: error for each that failed. */
  async restoreAll(): Promise<string[]> {
    const failures = (await this.#delta?.restore()) ?? [];
    this.#clock.reset();
    return failures;
  }

  async runMqttCase(input: MqttCaseInput): Promise<DeviceOutcome> {
    return this.#runCase(async (stack, log) => {
      const caps = await this.#prepare(input, stack, log);
      await this.#configureMqtt(caps, this.#setupFor(stack), log);
      await this.#mqttSession(input, choosePublishForm(caps), stack, log);
    });
  }

  #setupFor(caseStack: RestoreStack): Setup {
    return setupFor(this.#delta, caseStack);
  }

  /**
   * CA rotation as the vendor support procedure describes it: upload the new CA under a new name, rebind
   * `cacert` of the owned context, reopen and reconnect; the old file is deleted only after the
   * rebound connection published. `reboot` instead restarts the module (counted against the reset
   * budget) and records which settings and owned files it kept, then configures the context again
   * from the surviving file and reconnects. Every step's raw codes are kept; restores as usual.
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
      const caps = await this.capabilities();
      const setup: Setup = { stack, delta: null };
      if (this.#options.pdp) await this.#ensurePdp(this.#options.pdp, setup);
      const first: RotationSide = input.kind === 'rebind' ? 'old' : 'new';
      stores[first] = (await this.#uploadOwned(`rot_${first}_ca.pem`, input.anchors[first], setup)).path;
      await this.#configureSsl(base, stores[first], caps, setup, log);
      await this.#configureMqtt(caps, setup, log);
      if (input.clock) await this.#setClock(input.clock, stack);
      const step = (plan: RotationStepPlan) =>
        this.#rotationStep(input, plan, caps, log).then((s) => {
          steps.push(s);
          return s;
        });

      if (input.kind === 'rebind') {
        // The old CA reaches its own server and is refused by the new one: the two CAs are distinct.
        if (!(await step(ROTATION_PLAN.rebind[0])).reached.publishAcked) return;
        await step(ROTATION_PLAN.rebind[1]);
        stores.new = (await this.#uploadOwned('rot_new_ca.pem', input.anchors.new, setup)).path;
        rebind = await this.#rebindCa(stores.new, log);
        if (!rebind) return;
        const rebound = await step(ROTATION_PLAN.rebind[2]);
        if (!rebound.reached.publishAcked) return;
        await step(ROTATION_PLAN.rebind[3]);
        // The vendor's procedure: "After confirming successful reconnection, the old certificate file can be deleted."
        const del = await this.#at.command(`AT+QFDEL="${stores.old}"`, { timeoutMs: this.#t.basic });
        oldDeleted = { step: `delete ${stores.old}`, raw: del.final, at: new Date().toISOString() };
        log.code('delete old CA', del.final);
        return;
      }

      if (!(await step(ROTATION_PLAN.reboot[0])).reached.publishAcked) return;
      reboot = await this.#rebootAndReadBack(caps, log);
      // Configure again from the file that survived: no new upload; a reboot may have reset the clock.
      await this.#configureSsl(base, stores.new as string, caps, setup, log);
      await this.#configureMqtt(caps, setup, log);
      if (input.clock) await this.#setClock(new Date(), stack);
      await step(ROTATION_PLAN.reboot[1]);
    });
    return { ...outcome, kind: input.kind, steps, stores, rebind, oldDeleted, reboot };
  }

  /** One connection of a rotation case (the shared step runner, with this dialect's MQTT session). */
  #rotationStep(
    input: RotationCaseInput,
    plan: RotationStepPlan,
    caps: CapabilityDump,
    log: CaseLog,
  ): Promise<RotationStep> {
    return runRotationStep(input, plan, log, (mqtt, stack, stepLog) =>
      this.#mqttSession(mqtt, choosePublishForm(caps), stack, stepLog),
    );
  }

  /** AT+QSSLCFG="cacert",<ctx>,"<new>" on the owned context, read back; the raw answer either way. */
  async #rebindCa(path: string, log: CaseLog): Promise<RotationOutcome['rebind']> {
    const ctx = this.#own.sslContext;
    const r = await this.#at.command(`AT+QSSLCFG="cacert",${ctx},${formatSslValue('cacert', path)}`, {
      timeoutMs: this.#t.basic,
    });
    log.code('rebind cacert', r.final);
    const back = await this.#readSsl('cacert');
    log.readBack['QSSLCFG cacert (rebound)'] = back?.line ?? '(no answer)';
    if (!r.ok || !back || !sameSslValue('cacert', back.value, path)) return null;
    return { step: `rebind cacert to ${path}`, raw: r.final, at: new Date().toISOString() };
  }

  /**
   * Reads every SSL key of the owned context and the owned files, restarts the module
   * (AT+CFUN=1,1 → RDY, counted against the reset budget) and reads them again. Nothing is assumed:
   * what survived is what reads back the same.
   */
  async #rebootAndReadBack(caps: CapabilityDump, log: CaseLog): Promise<RebootObservation> {
    const keys = [
      ...new Set([...(listedKeys(caps, 'AT+QSSLCFG=?') ?? DOCUMENTED_SSL_KEYS), ...REQUIRED_SSL_KEYS]),
    ];
    const snapshot = async () => {
      const lines: Record<string, string> = {};
      for (const key of keys) {
        const r = await this.#readSsl(key);
        if (r) lines[`QSSLCFG ${key}`] = r.line;
      }
      const ssl = await this.#at.command(`AT+QMTCFG="ssl",${this.#own.mqttClient}`, {
        timeoutMs: this.#t.basic,
      });
      lines['QMTCFG ssl'] = ssl.lines.find((l) => l.startsWith('+QMTCFG:')) ?? ssl.final;
      return lines;
    };
    const ownedFiles = async () =>
      (await this.#files.list()).filter((f) => this.#files.owns(`UFS:${f.name}`)).map((f) => f.name);
    const before = await snapshot();
    const filesBefore = await ownedFiles();
    const mark = log.urcs.length;
    log.restarting = true;
    try {
      await this.reset();
      // A module that just booted is not yet on the network: opening now would only time out.
      log.registration('registration', await this.#awaitRegistration());
      const after = await snapshot();
      const filesAfter = await ownedFiles();
      const announced =
        log.urcs.slice(mark).find((u) => /^(RDY|APP RDY)$/.test(u.line))?.line ??
        'no RDY seen; module answered AT';
      log.code('reboot', announced);
      const { kept, lost } = compareReadBack(before, after);
      const contextSettings = Object.keys(before).filter((k) => k.startsWith('QSSLCFG '));
      return { announced, before, after, kept, lost, contextSettings, filesBefore, filesAfter };
    } finally {
      log.restarting = false;
    }
  }

  /**
   * Raw TLS through AT+QSSLOPEN (buffer access mode) on the owned SSL context and socket index:
   * open, state, optionally send a payload and read what comes back, close. The TLS stage is
   * `+QSSLOPEN: <id>,0`; any other code is recorded raw with AT+QIGETERROR.
   */
  async runTlsSocketCase(input: TlsSocketCaseInput): Promise<DeviceOutcome> {
    return this.#runCase(async (stack, log) => {
      await this.#prepare(input, stack, log);
      const id = this.#own.sslClient ?? 1;
      const pdp = this.#options.pdp?.contextId ?? 1;
      const opened = await this.#at.command(
        `AT+QSSLOPEN=${pdp},${this.#own.sslContext},${id},${quote(input.host)},${input.port},0`,
        { timeoutMs: this.#t.basic },
      );
      if (!opened.ok) {
        log.code('open', opened.final);
        await this.#queryError(log, 'after QSSLOPEN');
        return;
      }
      // The socket exists once the command was accepted: close it whatever the URC says.
      stack.push(
        `close SSL socket ${id}`,
        async () => {
          const r = await this.#at.command(`AT+QSSLCLOSE=${id}`, { timeoutMs: this.#t.sslClose });
          log.code('close', r.final);
        },
        { commands: [`AT+QSSLCLOSE=${id}`], bestEffort: true },
      );
      const open = await this.#urc(
        new RegExp(`^\\+QSSLOPEN: ${id},`),
        undefined,
        this.#t.network + this.#t.mqttOpen,
      );
      log.code('open', open.line);
      if (open.line !== `+QSSLOPEN: ${id},0`) {
        await this.#queryError(log, 'after QSSLOPEN');
        return;
      }
      log.reach('tcp');
      log.reach('tls');
      const state = await this.#at.command(`AT+QSSLSTATE=${id}`, { timeoutMs: this.#t.basic });
      log.code('state', state.lines.find((l) => l.startsWith('+QSSLSTATE:')) ?? state.final);
      if (!input.payload) return;
      const sent = await this.#at.commandWithData(
        `AT+QSSLSEND=${id},${input.payload.length}`,
        input.payload,
        {
          prompt: '>',
          timeoutMs: this.#t.mqttPacket,
          extraFinals: { 'SEND OK': true, 'SEND FAIL': false },
        },
      );
      log.code('send', sent.final);
      if (!sent.ok) return;
      const closed = new RegExp(`^\\+QSSLURC: "closed",${id}$`);
      const recv = await this.#urc(
        new RegExp(`^\\+QSSLURC: "recv",${id}$`),
        closed,
        this.#t.mqttPacket,
      ).catch(() => null);
      if (!recv) return log.code('recv', 'nothing within the wait');
      log.code('recv', recv.line);
      if (!recv.expected) return;
      const data = await this.#at.command(`AT+QSSLRECV=${id},1500`, {
        timeoutMs: this.#t.basic,
        rawDataAfter: /^\+QSSLRECV: (\d+)$/,
      });
      log.code('recv', data.lines.find((l) => l.startsWith('+QSSLRECV:')) ?? data.final);
    });
  }

  /** Capabilities, PDP, the anchors file, the SSL context and the clock: what every case needs first. */
  async #prepare(input: CaseBase, caseStack: RestoreStack, log: CaseLog): Promise<CapabilityDump> {
    const caps = await this.capabilities();
    const cannot = inexpressible(input.intent, quectelTlsCapabilities(caps), this.family);
    if (cannot) throw new Error(cannot);
    const setup = this.#setupFor(caseStack);
    if (this.#options.pdp) await this.#ensurePdp(this.#options.pdp, setup);
    const anchors = await anchorStep(log, 'upload', () =>
      this.#uploadAnchors(input.anchorsPem, setup, input.anchorsDer),
    );
    const client: Record<string, string> = {};
    const reloaded = new Set<string>(anchors.uploaded ? ['cacert'] : []);
    if (input.clientCertificate) {
      for (const [key, name, pem] of [
        ['clientcert', 'client.pem', input.clientCertificate.certPem],
        ['clientkey', 'client_key.pem', input.clientCertificate.keyPem],
      ] as const) {
        const file = await this.#uploadOwned(name, pem, setup);
        client[key] = file.path;
        if (file.uploaded) reloaded.add(key);
      }
    }
    await this.#configureSsl(input, anchors.path, caps, setup, log, client, reloaded);
    if (setup.delta) await this.#clock.ensure(input.clock ?? null, setup.stack);
    else if (input.clock) await this.#setClock(input.clock, setup.stack);
    return caps;
  }

  /** The shared case frame, plus AT+QIGETERROR after a failure and a restart mid-case as a fault. */
  async #runCase(body: (stack: RestoreStack, log: CaseLog) => Promise<void>): Promise<DeviceOutcome> {
    const outcome = await runCaseFrame(
      this.#at,
      this.#t.basic,
      {
        track: (stack) => {
          this.#current = stack;
        },
        journal: this.#journal,
        afterFailure: (log) => this.#queryError(log, 'after failure'),
        faultSeen: (log) => {
          const boot = log.unexpectedUrcs.find((u) => /^(RDY|APP RDY|POWERED DOWN)$/.test(u.line));
          // A restart mid-case loses volatile state: whatever the case saw after it is not the scenario.
          return boot ? `module restarted during the case (${boot.line} at ${boot.at})` : null;
        },
      },
      body,
    );
    // A refused command, a restart or a lost link leaves the settings unknown: learn them again.
    if (outcome.error !== null || !outcome.healthy) this.#forget();
    return outcome;
  }

  #forget(): void {
    this.#delta?.forget();
    this.#clock.forget();
  }

  /** Reboots the module (AT+CFUN=1,1) and waits for RDY; counted against the device's daily budget. */
  async reset(): Promise<void> {
    const device = this.#identity?.imei ?? this.#identity?.model ?? 'unknown-device';
    (this.#options.resetBudget ?? DEFAULT_BUDGET).consume(device);
    this.#forget();
    this.#at.clearBacklog();
    try {
      await this.#at.commandOk('AT+CFUN=1,1', { timeoutMs: this.#t.basic, restarts: true });
    } catch (err) {
      // The module may restart before its OK leaves the UART; RDY below is what counts.
      if (!(err instanceof AtTimeoutError)) throw err;
    }
    try {
      await this.#at.waitForUrc(/^RDY$/, { timeoutMs: this.#t.reboot });
    } catch (err) {
      if (!(err instanceof AtTimeoutError)) throw err;
      // A USB port that re-enumerates can come back after RDY was printed: accept a module that answers.
      const alive = await this.#alive();
      if (!alive) throw err;
      this.#at.transcript.record('note', 'RDY not seen after AT+CFUN=1,1, but the module answers AT');
    }
  }

  #awaitRegistration(): Promise<RegistrationWait> {
    return awaitRegistration({
      at: this.#at,
      basicMs: this.#t.basic,
      timeoutMs: this.#t.registration,
      pollMs: this.#t.registrationPoll,
    });
  }

  #alive(): Promise<boolean> {
    return deviceAnswers(this.#at, this.#t.basic);
  }

  /** AT+QIGETERROR: the module's own code for the last TCP/IP or SSL command, verbatim. */
  async #queryError(log: CaseLog, step: string): Promise<void> {
    const r = await this.#at.command('AT+QIGETERROR', { timeoutMs: this.#t.basic });
    log.diagnostic(`QIGETERROR ${step}`, r.lines.find((l) => l.startsWith('+QIGETERROR:')) ?? r.final);
  }

  async #ensurePdp(pdp: NonNullable<QuectelDriverOptions['pdp']>, { stack, delta }: Setup): Promise<void> {
    const cid = pdp.contextId;
    if (delta?.settings.get(`QIACT ${cid}`) === '1') return;
    if (pdp.apn !== undefined) {
      const before = await this.#at.commandOk(`AT+QICSGP=${cid}`, {
        timeoutMs: this.#t.basic,
        retries: TRANSIENT_RETRIES,
      });
      const line = before.lines.find((l) => l.startsWith('+QICSGP:'));
      const previous = line?.slice('+QICSGP:'.length).trim() ?? null;
      const apn = /^\d+,"([^"]*)"/.exec(previous ?? '')?.[1];
      if (apn !== pdp.apn) {
        await this.#at.commandOk(`AT+QICSGP=${cid},1,${quote(pdp.apn)},"","",1`, {
          timeoutMs: this.#t.basic,
          retries: TRANSIENT_RETRIES,
        });
        if (previous !== null) {
          if (!delta || delta.firstChange(`QICSGP ${cid}`))
            stack.push(
              `QICSGP ${cid}`,
              () =>
                this.#at.commandOk(`AT+QICSGP=${cid},${previous}`, {
                  timeoutMs: this.#t.basic,
                  retries: TRANSIENT_RETRIES,
                }),
              { commands: [`AT+QICSGP=${cid},${previous}`] },
            );
        }
      }
    }
    const state = await this.#at.commandOk('AT+QIACT?', {
      timeoutMs: this.#t.basic,
      retries: TRANSIENT_RETRIES,
    });
    if (!state.lines.some((l) => new RegExp(`^\\+QIACT: ${cid},1`).test(l))) {
      if (!delta || delta.firstChange(`QIACT ${cid}`))
        stack.push(
          `QIACT ${cid}`,
          () => this.#at.commandOk(`AT+QIDEACT=${cid}`, { timeoutMs: this.#t.network }),
          { commands: [`AT+QIDEACT=${cid}`], bestEffort: true },
        );
      await this.#at.commandOk(`AT+QIACT=${cid}`, { timeoutMs: this.#t.network });
    }
    delta?.settings.set(`QIACT ${cid}`, '1');
  }

  /** Uploads the anchors under an owned name ('' for none); see #uploadOwned. */
  async #uploadAnchors(pem: string | null, setup: Setup, der?: Buffer): Promise<OwnedFile> {
    if (der) return this.#uploadOwned('ca.der', der, setup);
    return pem === null ? { path: '', uploaded: false } : this.#uploadOwned('ca.pem', pem, setup);
  }

  /**
   * Uploads one owned file, deleted when its stack unwinds. Under delta configuration a file whose
   * content the device already holds (same hash, confirmed by its upload answer) is not sent again,
   * and a file of ours known to be there is replaced without listing the store first.
   */
  async #uploadOwned(name: string, content: string | Buffer, { stack, delta }: Setup): Promise<OwnedFile> {
    const path = this.#files.ownedPath(name);
    const hash = contentHash(content);
    const held = delta?.files.get(path);
    if (held?.hash === hash) return { path, uploaded: false };
    // Pushed before the upload: a failed or corrupted upload still leaves a file of ours to remove.
    if (!delta || delta.firstChange(path))
      stack.push(
        `delete ${path}`,
        async () => {
          const listing = await this.#files.list();
          if (listing.some((f) => `UFS:${f.name}` === path)) await this.#files.delete(path);
        },
        { commands: [`AT+QFDEL="${path}"`], bestEffort: true },
      );
    delta?.files.delete(path);
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    await this.#files.upload(path, bytes, held && { present: true, size: held.size });
    delta?.files.set(path, { hash, size: bytes.length });
    return { path, uploaded: true };
  }

  /** Reads one SSL key of the owned context; null when the module does not answer for it. */
  async #readSsl(key: string): Promise<{ value: string; line: string } | null> {
    const ctx = this.#own.sslContext;
    const r = await this.#at.command(`AT+QSSLCFG="${key}",${ctx}`, { timeoutMs: this.#t.basic });
    const value = r.ok ? parseSslReadBack(r.lines, key, ctx) : null;
    return value === null ? null : { value, line: r.lines.find((l) => l.includes(`"${key}"`)) ?? '' };
  }

  /** Sets one key, reads it back, and puts the previous value on the restore stack. */
  async #writeSsl(
    key: string,
    value: string,
    previous: string,
    { stack, delta }: Setup,
    log: CaseLog,
  ): Promise<void> {
    const ctx = this.#own.sslContext;
    const command = (v: string) => `AT+QSSLCFG="${key}",${ctx},${formatSslValue(key, v)}`;
    const set = (v: string) =>
      this.#at.commandOk(command(v), { timeoutMs: this.#t.basic, retries: TRANSIENT_RETRIES });
    // Pushed before the write: a write that times out may still have happened (a late OK).
    if (!delta || delta.firstChange(`QSSLCFG ${key}`))
      stack.push(
        `QSSLCFG "${key}" ctx ${ctx} back to ${previous}`,
        async () => {
          await set(previous);
          const back = await this.#readSsl(key);
          if (!back || !sameSslValue(key, back.value, previous)) {
            throw new Error(`read back ${back?.value ?? 'nothing'} after restoring ${previous}`);
          }
        },
        { commands: [command(previous)] },
      );
    delta?.settings.delete(`QSSLCFG ${key}`);
    await set(value);
    const after = await this.#readSsl(key);
    if (!after || !sameSslValue(key, after.value, value)) {
      throw new Error(`QSSLCFG "${key}" read back ${after?.value ?? 'nothing'} after setting ${value}`);
    }
    delta?.settings.set(`QSSLCFG ${key}`, after.value);
    log.readBack[`QSSLCFG ${key}`] = after.line;
  }

  /**
   * Pins every SSL key the module lists (or the documented list, when it lists none) on the owned
   * context: the case's settings, then the baseline; each write read back and undone at the end.
   */
  async #configureSsl(
    input: CaseBase,
    caPath: string,
    caps: CapabilityDump,
    setup: Setup,
    log: CaseLog,
    clientFiles: Readonly<Record<string, string>> = {},
    /** File keys whose file was uploaded anew: bound again even under the same name, so the module reloads it. */
    reloaded: ReadonlySet<string> = new Set(),
  ): Promise<void> {
    // The listed keys, plus the ones every case needs even when the list spells them differently
    // (the EC200x/EC800x note prints "secllevel" in the test answer).
    const keys = new Set([
      ...(listedKeys(caps, 'AT+QSSLCFG=?') ?? DOCUMENTED_SSL_KEYS),
      ...REQUIRED_SSL_KEYS,
    ]);
    const current = await this.#currentSsl(keys, setup.delta);
    const seclevelKey = current.has('seclevel') ? 'seclevel' : 'secllevel';
    const asked = sslValuesFor(input.intent, seclevelKey);
    const desired: Record<string, string> = {
      ...BASELINE_SSL_VALUES,
      ...asked,
      cacert: caPath,
      ...clientFiles,
    };
    // The keys this intent cannot do without; the rest are pinned where the module has them.
    const needed = [
      'cacert',
      seclevelKey,
      'sslversion',
      'sni',
      ...(input.intent.deviceClock === 'ignore' ? ['ignorelocaltime'] : []),
      ...(input.intent.cipherSuites === 'all' ? [] : ['ciphersuite']),
      ...Object.keys(input.intent.vendor).map((k) => k.slice(VENDOR_PREFIX.length)),
      ...Object.keys(clientFiles),
    ];
    for (const key of needed) {
      if (!current.has(key)) {
        throw new Error(`module does not answer AT+QSSLCFG="${key}",${this.#own.sslContext}`);
      }
    }
    for (const [key, value] of Object.entries(desired)) {
      const previous = current.get(key);
      if (previous === undefined) continue; // not a key of this module
      if (sameSslValue(key, previous, value) && !reloaded.has(key)) {
        log.readBack[`QSSLCFG ${key}`] = `${previous} (unchanged)`;
        continue;
      }
      const write = () => this.#writeSsl(key, value, previous, setup, log);
      await (key === 'cacert' && value !== '' ? anchorStep(log, 'bind', write) : write());
    }
  }

  /**
   * The owned context's value of every key, read once (and again after the delta state was
   * forgotten); under delta configuration later cases take them from what was last read or set.
   */
  async #currentSsl(keys: ReadonlySet<string>, delta: DeltaState | null): Promise<Map<string, string>> {
    const prefix = 'QSSLCFG ';
    if (delta?.learned) {
      return new Map(
        [...delta.settings]
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      );
    }
    const current = new Map<string, string>();
    for (const key of keys) {
      const r = await this.#readSsl(key);
      if (r) current.set(key, r.value);
    }
    if (!current.has('seclevel') && !keys.has('secllevel')) {
      const r = await this.#readSsl('secllevel');
      if (r) current.set('secllevel', r.value);
    }
    if (delta) {
      for (const [key, value] of current) delta.settings.set(`${prefix}${key}`, value);
      delta.learned = true;
    }
    return current;
  }

  /** QMTCFG "ssl" (and "version", "pdpcid" when listed) for the owned client, read back and undone at the end. */
  async #configureMqtt(caps: CapabilityDump, { stack, delta }: Setup, log: CaseLog): Promise<void> {
    const idx = this.#own.mqttClient;
    const listed = listedKeys(caps, 'AT+QMTCFG=?');
    const wanted: [string, string][] = [
      ['ssl', `1,${this.#own.sslContext}`],
      ['version', '4'],
    ];
    if (listed?.includes('pdpcid') && this.#options.pdp)
      wanted.push(['pdpcid', String(this.#options.pdp.contextId)]);
    for (const [key, value] of wanted) {
      if (listed && !listed.includes(key) && key !== 'ssl') continue;
      const read = async () => {
        const r = await this.#at.commandOk(`AT+QMTCFG="${key}",${idx}`, {
          timeoutMs: this.#t.basic,
          retries: TRANSIENT_RETRIES,
        });
        const prefix = `+QMTCFG: "${key}",${idx},`;
        const line = r.lines.find((l) => l.startsWith(prefix));
        return line ? { value: line.slice(prefix.length), line } : null;
      };
      const knownKey = `QMTCFG ${key}`;
      if (delta?.settings.get(knownKey) === value) continue;
      const before = await read();
      if (before?.value === value) {
        delta?.settings.set(knownKey, value);
        continue;
      }
      const command = (v: string) => `AT+QMTCFG="${key}",${idx},${v}`;
      const set = (v: string) =>
        this.#at.commandOk(command(v), { timeoutMs: this.#t.basic, retries: TRANSIENT_RETRIES });
      if (before && (!delta || delta.firstChange(knownKey))) {
        stack.push(`QMTCFG "${key}" client ${idx} back to ${before.value}`, () => set(before.value), {
          commands: [command(before.value)],
        });
      }
      await set(value);
      const after = await read();
      if (after?.value !== value) {
        throw new Error(`QMTCFG "${key}" read back ${after?.value ?? 'nothing'} after setting ${value}`);
      }
      delta?.settings.set(knownKey, value);
      log.readBack[`QMTCFG ${key}`] = after.line;
    }
  }

  #setClock(date: Date, stack: RestoreStack): Promise<void> {
    return setCaseClock({ at: this.#at, timeoutMs: this.#t.basic }, date, stack);
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

  async #mqttSession(
    input: MqttCaseInput,
    form: PublishForm,
    stack: RestoreStack,
    log: CaseLog,
  ): Promise<void> {
    const idx = this.#own.mqttClient;
    const stat = new RegExp(`^\\+QMTSTAT: ${idx},`);
    // 'unknown' from the moment QMTOPEN is accepted until its URC says otherwise: a lost URC must
    // still end in QMTCLOSE, or the next case finds the index occupied.
    const link = { open: false };
    stack.push(
      `close MQTT client ${idx}`,
      async () => {
        if (link.open) await this.#closeMqtt(idx, log);
      },
      { commands: [`AT+QMTCLOSE=${idx}`], bestEffort: true },
    );
    const open = async () => {
      link.open = true;
      await this.#at.commandOk(`AT+QMTOPEN=${idx},${quote(input.host)},${input.port}`, {
        timeoutMs: this.#t.basic,
      });
      return (await this.#urc(new RegExp(`^\\+QMTOPEN: ${idx},`), undefined, this.#t.mqttOpen)).line;
    };
    let opened = await open();
    log.code('open', opened);
    if (opened === `+QMTOPEN: ${idx},2`) {
      // Identifier occupied: our own client index, left open by an interrupted run. Close it and retry once.
      await this.#closeMqtt(idx, log);
      opened = await open();
      log.code('open', opened);
    }
    if (opened !== `+QMTOPEN: ${idx},0`) {
      link.open = false; // a failed open leaves the client idle
      await this.#queryError(log, 'after QMTOPEN');
      return;
    }
    log.reach('tls');

    await this.#at.commandOk(`AT+QMTCONN=${idx},${quote(input.clientId)}`, { timeoutMs: this.#t.basic });
    const conn = await this.#urc(new RegExp(`^\\+QMTCONN: ${idx},`), stat, this.#t.mqttPacket);
    log.code('connect', conn.line);
    if (!conn.expected) {
      link.open = false; // +QMTSTAT: the module closed the client itself
      return;
    }
    if (conn.line !== `+QMTCONN: ${idx},0,0`) return;
    log.reach('mqttConnack');

    const ack = await this.#publish(idx, input, form, stat);
    log.code('publish', ack.line);
    if (!ack.expected) {
      link.open = false;
      return;
    }
    if (/^\+QMTPUB(EX)?: \d+,\d+,0$/.test(ack.line)) log.reach('publishAck');

    await this.#at.commandOk(`AT+QMTDISC=${idx}`, { timeoutMs: this.#t.basic });
    const disc = await this.#urc(new RegExp(`^\\+QMTDISC: ${idx},`), undefined, this.#t.mqttPacket);
    log.code('disconnect', disc.line);
    // QMTDISC closes the network connection as well; a failed one leaves it for QMTCLOSE.
    link.open = disc.line !== `+QMTDISC: ${idx},0`;
  }

  /** Publishes one QoS 1 message in the form the module listed; resolves with the ack URC (or +QMTSTAT). */
  async #publish(idx: number, input: MqttCaseInput, form: PublishForm, stat: RegExp): Promise<UrcResult> {
    const msgId = 1;
    const payload = Buffer.from(input.payload, 'utf8');
    const head = `AT+${form.command}=${idx},${msgId},1,0,${quote(input.topic)}`;
    const r =
      form.mode === 'data'
        ? await this.#at.commandWithData(`${head},${payload.length}`, payload, {
            prompt: '>',
            timeoutMs: this.#t.mqttPacket,
          })
        : await this.#at.command(`${head},${quote(input.payload)}`, { timeoutMs: this.#t.mqttPacket });
    if (!r.ok) return { line: r.final, expected: true };
    return this.#urc(new RegExp(`^\\+${form.command}: ${idx},${msgId},`), stat, this.#t.mqttPacket);
  }

  async #closeMqtt(idx: number, log: CaseLog): Promise<void> {
    const r = await this.#at.command(`AT+QMTCLOSE=${idx}`, { timeoutMs: this.#t.basic });
    if (!r.ok) return log.code('close', r.final);
    log.code(
      'close',
      (await this.#urc(new RegExp(`^\\+QMTCLOSE: ${idx},`), undefined, this.#t.mqttClose)).line,
    );
  }
}

/** In-memory budget for drivers created without one (one process). */
const DEFAULT_BUDGET = new ResetBudget();
