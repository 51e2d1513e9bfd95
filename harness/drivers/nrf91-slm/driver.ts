import { type AtEngine, TRANSIENT_RETRIES } from '../../at/engine.ts';
import { AtTimeoutError, AtUnexpectedUrcError } from '../../at/errors.ts';
import { anchorStep } from '../anchor-step.ts';
import { deviceAnswers, runCaseFrame } from '../case-frame.ts';
import type { CaseLog, RegistrationWait } from '../case-log.ts';
import { type CaseSetup, contentHash, DeltaState, setupFor } from '../delta-state.ts';
import type { DeviceIdentity, DeviceOutcome, ModemDriver, MqttCaseInput } from '../driver.ts';
import { fieldFrom, IDENTITY_PATTERNS, identifyReliably } from '../identity.ts';
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
import { inexpressible, type TlsCapabilities } from '../tls-intent.ts';
import { NRF91_SLM_AT } from './at-dialect.ts';
import { CMNG_TYPE, type CmngType, CredentialStore, type SecTagRange } from './cmng.ts';
import { NRF91_SLM_TIMEOUTS, type Nrf91SlmTimeouts } from './timeouts.ts';

/** What the harness may touch on an nRF91 running the Serial LTE Modem application. */
export interface Nrf91Ownership {
  /** sec_tags the harness writes and deletes; each case uses the first. */
  readonly secTags: SecTagRange;
}

/** 0x54524C00 ("TRL\0"): far from nRF Cloud's 16842753 and from the small numbers samples use. */
export const DEFAULT_NRF91_OWNERSHIP: Nrf91Ownership = { secTags: { first: 0x54524c00, count: 16 } };

/** #XMQTTEVT event types (MQTT_AT_commands.rst). */
const EVT = { connack: 0, disconnect: 1, puback: 3 } as const;

/** A TLS socket case: #XSSOCKET with an explicit peer_verify and hostname. */
export interface TlsSocketCaseInput {
  readonly caseId: string;
  readonly anchorsPem: string | null;
  readonly host: string;
  readonly port: number;
  /** 0 none, 1 optional, 2 required. */
  readonly peerVerify: 0 | 1 | 2;
  /** TLS_HOSTNAME (hostname check and SNI); null sends "NULL", which turns both off. */
  readonly hostname: string | null;
}

/** The #XMQTTCON form this SLM takes, from `AT#XMQTTCON=?`: newer ones take the client id in #XMQTTCFG. */
type ConnectForm = 'cfg-client-id' | 'con-client-id';

/** A credential's key in the delta state. */
const credentialKey = (secTag: number, type: number) => `sec_tag ${secTag} type ${type}`;

const quote = (s: string) => `"${s.replaceAll('"', '')}"`;

/**
 * nRF9160 with the Serial LTE Modem application: credentials through AT%CMNG (modem offline,
 * CFUN=4, restored afterwards), MQTT through #XMQTTCFG/#XMQTTCON/#XMQTTPUB with #XMQTTEVT events,
 * and TLS sockets through #XSSOCKET/#XSSOCKETOPT/#XCONNECT. Raw codes only.
 *
 * With a sec_tag, SLM MQTT always verifies the peer and checks the hostname against the broker URL
 * (slm_at_mqtt.c client_init): there is no AT knob, so MQTT cases whose settings ask for anything
 * else are refused as not expressible, and the TLS socket case is the place for those knobs.
 */
export class Nrf91SlmDriver implements ModemDriver {
  readonly family = 'nrf91-slm';
  readonly #at: AtEngine;
  readonly #own: Nrf91Ownership;
  readonly #t: Nrf91SlmTimeouts;
  readonly #store: CredentialStore;
  readonly #journal: RestoreJournal | null;
  /** Credentials, CMEE and CFUN kept between cases (delta configuration), or null: every case from scratch. */
  readonly #delta: DeltaState | null;
  #connectForm: ConnectForm | null = null;
  #mqttListed = false;
  #current: RestoreStack | null = null;

  constructor(
    at: AtEngine,
    ownership = DEFAULT_NRF91_OWNERSHIP,
    timeouts: Nrf91SlmTimeouts = NRF91_SLM_TIMEOUTS,
    options: { readonly delta?: boolean; readonly journal?: RestoreJournal | null } = {},
  ) {
    this.#journal = options.journal ?? null;
    this.#delta = options.delta === true ? new DeltaState(this.#journal) : null;
    this.#at = at;
    at.speak(NRF91_SLM_AT);
    this.#own = ownership;
    this.#t = timeouts;
    this.#store = new CredentialStore(at, ownership.secTags, timeouts.cmng);
  }

  get credentials(): CredentialStore {
    return this.#store;
  }

  async identify(): Promise<DeviceIdentity> {
    const basic = { timeoutMs: this.#t.basic };
    await this.#at.commandOk('AT', basic);
    const identity = await identifyReliably(async () => {
      const cgmi = await this.#at.command('AT+CGMI', basic);
      const cgmm = await this.#at.command('AT+CGMM', basic);
      const cgmr = await this.#at.command('AT+CGMR', basic);
      const cgsn = await this.#at.command('AT+CGSN', basic);
      const cclk = await this.#at.command('AT+CCLK?', basic);
      return {
        identity: {
          manufacturer: fieldFrom(cgmi, IDENTITY_PATTERNS.manufacturer) ?? 'unknown',
          model: fieldFrom(cgmm, IDENTITY_PATTERNS.model) ?? 'unknown',
          firmware: fieldFrom(cgmr, IDENTITY_PATTERNS.firmware) ?? 'unknown',
          imei: fieldFrom(cgsn, IDENTITY_PATTERNS.imei),
          clock: cclk.ok ? (cclk.lines.find((l) => l.startsWith('+CCLK:')) ?? null) : null,
        },
        answers: [cgmi, cgmm, cgmr, cgsn],
      };
    });
    const capabilities: Record<string, readonly string[]> = {};
    for (const probe of ['AT#XSLMVER', 'AT#XMQTTCON=?', 'AT#XSSOCKET=?']) {
      const r = await this.#at.command(probe, basic);
      capabilities[probe] = r.ok ? r.lines : [`(refused: ${r.final})`];
    }
    this.#learnMqtt(capabilities['AT#XMQTTCON=?'] ?? []);
    return { ...identity, capabilities };
  }

  /** The MQTT client's test answer, when identify has not asked it yet (read-only). */
  async #probeMqtt(): Promise<void> {
    const r = await this.#at.command('AT#XMQTTCON=?', { timeoutMs: this.#t.basic });
    this.#learnMqtt(r.ok ? r.lines : [`(refused: ${r.final})`]);
  }

  #learnMqtt(testAnswer: readonly string[]): void {
    this.#connectForm = connectFormOf(testAnswer);
    this.#mqttListed = !(testAnswer[0] ?? '').startsWith('(refused');
  }

  /**
   * With a sec_tag, SLM MQTT always verifies the peer and checks the hostname against the broker URL,
   * which is also the SNI, and offers TLS 1.2 only: no AT knob changes any of it. Whether the
   * MQTT client exists at all comes from the module's own `AT#XMQTTCON=?` answer.
   */
  async tlsCapabilities(): Promise<TlsCapabilities> {
    if (this.#connectForm === null) await this.#probeMqtt();
    const mqtt = this.#mqttListed;
    return {
      peerVerification: mqtt ? ['server', 'mutual'] : [],
      versions: ['TLSv1.2'],
      sniSwitch: false,
      sniFixed: true,
      hostnameCheckSwitch: false,
      clockSwitch: false,
      cipherSuiteSelection: false,
      cipherSuites: [],
      vendor: [],
      basis: [
        mqtt
          ? `AT#XMQTTCON=? answered (${this.#connectForm}): MQTT over a sec_tag, which fixes verification, SNI and TLS 1.2`
          : 'AT#XMQTTCON=? was refused: this SLM has no MQTT client',
      ],
      ...(mqtt ? {} : { unavailable: 'the module refused AT#XMQTTCON=? (no MQTT client in this SLM build)' }),
    };
  }

  async abort(): Promise<string[]> {
    return [...((await this.#current?.unwind()) ?? []), ...(await this.restoreAll())];
  }

  /** Puts back the credentials, CMEE and CFUN the run kept between cases. */
  async restoreAll(): Promise<string[]> {
    return (await this.#delta?.restore()) ?? [];
  }

  async runMqttCase(input: MqttCaseInput): Promise<DeviceOutcome> {
    return this.#runCase(async (stack, log) => {
      const cannot = inexpressible(input.intent, await this.tlsCapabilities(), this.family);
      if (cannot) throw new Error(cannot);
      if (input.intent.peerVerification === 'mutual' && !input.clientCertificate)
        throw new Error('mutual TLS asked without a client certificate to write into the sec_tag');
      const secTag = await this.#provision(input.anchorsPem, stack, log, input.clientCertificate);
      await this.#mqtt(input, secTag, stack, log);
    });
  }

  /** Opens a TLS socket with the given peer_verify and hostname, and closes it; the TLS stage is #XCONNECT: 1. */
  async runTlsSocketCase(input: TlsSocketCaseInput): Promise<DeviceOutcome> {
    return this.#runCase(async (stack, log) => {
      const secTag = await this.#provision(input.anchorsPem, stack, log);
      const open = await this.#at.command(`AT#XSSOCKET=1,1,0,${secTag},${input.peerVerify}`, {
        timeoutMs: this.#t.basic,
      });
      log.code('socket', open.lines.find((l) => l.startsWith('#XSSOCKET:')) ?? open.final);
      if (!open.ok) return;
      stack.push(
        'close the TLS socket',
        async () => {
          const r = await this.#at.command('AT#XSOCKET=0', { timeoutMs: this.#t.basic });
          log.code('close', r.lines.find((l) => l.startsWith('#XSOCKET:')) ?? r.final);
        },
        { commands: ['AT#XSOCKET=0'], bestEffort: true },
      );
      const hostname = input.hostname === null ? '"NULL"' : quote(input.hostname);
      await this.#at.commandOk(`AT#XSSOCKETOPT=1,2,${hostname}`, { timeoutMs: this.#t.basic });
      const conn = await this.#at.command(`AT#XCONNECT=${quote(input.host)},${input.port}`, {
        timeoutMs: this.#t.connect,
      });
      const line = conn.lines.find((l) => l.startsWith('#XCONNECT:'));
      log.code('connect', line ?? conn.final);
      if (conn.ok && line === '#XCONNECT: 1') {
        log.reach('tls');
      }
    });
  }

  /**
   * CA rotation in the SLM dialect. On nRF91 a CA is not bound to a context: each #XMQTTCON names
   * the sec_tag it uses, so "rebinding" is connecting with the other owned sec_tag. `rebind`: old CA
   * under the first owned sec_tag, connect to both servers; new CA under the second, connect with it
   * to both; the old sec_tag's CA deleted only after the rebound connection published. `reboot`: new
   * CA, connect; AT#XRESET (→ `Ready`), settings and owned credentials read back raw before and after,
   * radio on and registered again, reconnect with the same sec_tag (no new write). Everything written
   * is deleted when the case unwinds, as in every case.
   */
  async runRotationCase(input: RotationCaseInput): Promise<RotationOutcome> {
    const steps: RotationStep[] = [];
    const stores: Partial<Record<RotationSide, string>> = {};
    let rebind: RotationOutcome['rebind'] = null;
    let oldDeleted: RotationOutcome['oldDeleted'] = null;
    let reboot: RebootObservation | null = null;
    const outcome = await this.#runCase(async (stack, log) => {
      // Rotation writes, reboots and reads back on its own terms: it starts from the device as found.
      const notRestored = await this.restoreAll();
      if (notRestored.length > 0)
        throw new Error(`restore before rotation failed: ${notRestored.join('; ')}`);
      const setup: CaseSetup = { stack, delta: null };
      const { first, count } = this.#own.secTags;
      const step = (plan: RotationStepPlan, secTag: number) =>
        runRotationStep(input, plan, log, (mqtt, s, l) => this.#mqtt(mqtt, secTag, s, l)).then((done) => {
          steps.push(done);
          return done;
        });
      const writeCa = async (side: RotationSide, secTag: number) => {
        await this.#writeOwned(secTag, [[CMNG_TYPE.rootCa, input.anchors[side]]], setup);
        stores[side] = `sec_tag:${secTag}`;
        log.registration(`registration (${side} CA written)`, await this.#online());
      };
      await this.#credentialSession(setup);

      if (input.kind === 'rebind') {
        if (count < 2)
          throw new Error(`rebind needs two owned sec_tags; the harness owns ${count} (${first})`);
        const [oldTag, newTag] = [first, first + 1];
        await writeCa('old', oldTag);
        // The old CA reaches its own server and is refused by the new one: the two CAs are distinct.
        if (!(await step(ROTATION_PLAN.rebind[0], oldTag)).reached.publishAcked) return;
        await step(ROTATION_PLAN.rebind[1], oldTag);
        await writeCa('new', newTag);
        const rebound = await step(ROTATION_PLAN.rebind[2], newTag);
        const answer = rebound.codes.find((c) => c.step === 'connect');
        rebind = {
          step: `#XMQTTCON with sec_tag ${newTag} instead of ${oldTag}`,
          raw: answer?.raw ?? 'no answer',
          at: answer?.at ?? rebound.endedAt,
        };
        if (!rebound.reached.publishAcked) return;
        await step(ROTATION_PLAN.rebind[3], newTag);
        // The support procedure: the old credential goes only after the reconnection with the new one published.
        await this.#offline();
        const raw = await this.#store.deleteRaw(oldTag, CMNG_TYPE.rootCa);
        oldDeleted = { step: `AT%CMNG=3,${oldTag},${CMNG_TYPE.rootCa}`, raw, at: new Date().toISOString() };
        log.code('delete old CA', raw);
        return;
      }

      const tag = first;
      await writeCa('new', tag);
      if (!(await step(ROTATION_PLAN.reboot[0], tag)).reached.publishAcked) return;
      reboot = await this.#rebootAndReadBack([tag], setup, log);
      // The credential written before the reboot is used as it is: no new write.
      await step(ROTATION_PLAN.reboot[1], tag);
    });
    return { ...outcome, kind: input.kind, steps, stores, rebind, oldDeleted, reboot };
  }

  /** Settings the case set and can read back, as raw lines (the final answer where refused). */
  async #settingsSnapshot(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [key, command, prefix] of [
      ['CFUN', 'AT+CFUN?', '+CFUN:'],
      ['CMEE', 'AT+CMEE?', '+CMEE:'],
      ['XMQTTCFG', 'AT#XMQTTCFG?', '#XMQTTCFG:'],
    ] as const) {
      const r = await this.#at.command(command, { timeoutMs: this.#t.basic });
      out[key] = r.lines.find((l) => l.startsWith(prefix)) ?? r.final;
    }
    return out;
  }

  /** The owned sec_tags' entries as AT%CMNG=1,<tag> lists them. */
  async #ownedCredentialLines(tags: readonly number[]): Promise<string[]> {
    const lines: string[] = [];
    for (const tag of tags) lines.push(...(await this.#store.listLines(tag)));
    return lines;
  }

  /**
   * Reads the settings and the owned credentials, restarts the SiP with AT#XRESET (→ `Ready`) and
   * reads them again, raw; then numeric errors and the radio back on, registration awaited (bounded).
   */
  async #rebootAndReadBack(
    tags: readonly number[],
    setup: CaseSetup,
    log: CaseLog,
  ): Promise<RebootObservation> {
    const before = await this.#settingsSnapshot();
    const filesBefore = await this.#ownedCredentialLines(tags);
    log.restarting = true;
    try {
      const announced = await this.#restart(log);
      log.code('reboot', announced);
      const after = await this.#settingsSnapshot();
      const filesAfter = await this.#ownedCredentialLines(tags);
      await this.#numericErrors(setup);
      log.registration('registration', await this.#online());
      // Credentials live in sec_tags named per connection: no TLS context to keep.
      return {
        announced,
        before,
        after,
        ...compareReadBack(before, after),
        contextSettings: [],
        filesBefore,
        filesAfter,
      };
    } finally {
      log.restarting = false;
    }
  }

  /**
   * AT#XRESET: SLM answers OK, powers the modem off and cold-boots, then prints `Ready`
   * (sdk-nrf applications/serial_lte_modem/src/slm_at_commands.c handle_at_reset; SLM_SYNC_STR in
   * slm_at_host.c). An SLM that refuses the command cannot be restarted over AT: the raw answer is
   * kept and the case stops, nothing else is tried.
   */
  async #restart(log: CaseLog): Promise<string> {
    this.#at.clearBacklog();
    let answered = false;
    try {
      const r = await this.#at.command('AT#XRESET', { timeoutMs: this.#t.basic, restarts: true });
      log.code('reset', r.final);
      if (!r.ok) {
        throw new Error(
          `AT#XRESET answered ${r.final}: this SLM cannot be restarted over AT, so the reboot case stops here`,
        );
      }
      answered = true;
    } catch (err) {
      // The OK may not leave the UART before the SiP goes down; `Ready` below is what counts.
      if (!(err instanceof AtTimeoutError)) throw err;
      log.code('reset', `no answer within ${this.#t.basic} ms`);
    }
    try {
      return await this.#at.waitForUrc(/^Ready$/, { timeoutMs: this.#t.reboot });
    } catch (err) {
      if (!(err instanceof AtTimeoutError)) throw err;
      // Neither OK nor Ready: whether it restarted at all is unknown, and is not assumed.
      if (!answered || !(await deviceAnswers(this.#at, this.#t.basic)))
        throw new Error(
          `no Ready within ${this.#t.reboot} ms after AT#XRESET (${answered ? 'OK' : 'no answer'}); whether the SLM restarted is unknown`,
        );
      this.#at.transcript.record('note', 'AT#XRESET answered OK, no Ready seen, the SLM answers AT');
      return 'no Ready seen after OK; SLM answered AT';
    }
  }

  /** The shared case frame (restore stack, abort, health judgement); a faulty case forgets what was kept. */
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
          // SLM prints `Ready` when it boots: one the harness did not ask for is a restart mid-case.
          const boot = log.unexpectedUrcs.find((u) => u.line === 'Ready');
          return boot ? `module restarted during the case (Ready at ${boot.at})` : null;
        },
      },
      body,
    );
    if (outcome.error !== null || !outcome.healthy) this.#delta?.forget();
    return outcome;
  }

  /** AT+CMEE=1 for the case, so %CMNG failures carry their number (513–528); the previous mode is put back. */
  async #numericErrors({ stack, delta }: CaseSetup): Promise<void> {
    if (delta?.settings.get('CMEE') === '1') return;
    const r = await this.#at.command('AT+CMEE?', { timeoutMs: this.#t.basic });
    const before = /^\+CMEE: (\d)/.exec(r.lines.find((l) => l.startsWith('+CMEE:')) ?? '')?.[1];
    if (!r.ok || before === undefined) return;
    if (before === '1') return void delta?.settings.set('CMEE', '1');
    if (!delta || delta.firstChange('CMEE'))
      stack.push(
        `CMEE back to ${before}`,
        () =>
          this.#at.commandOk(`AT+CMEE=${before}`, { timeoutMs: this.#t.basic, retries: TRANSIENT_RETRIES }),
        { commands: [`AT+CMEE=${before}`] },
      );
    await this.#at.commandOk('AT+CMEE=1', { timeoutMs: this.#t.basic, retries: TRANSIENT_RETRIES });
    delta?.settings.set('CMEE', '1');
  }

  async #cfun(): Promise<number> {
    const r = await this.#at.commandOk('AT+CFUN?', { timeoutMs: this.#t.basic, retries: TRANSIENT_RETRIES });
    const m = /^\+CFUN: (\d+)/.exec(r.lines.find((l) => l.startsWith('+CFUN:')) ?? '');
    if (!m) throw new Error(`AT+CFUN? answered ${r.lines.join(' | ') || 'nothing'}`);
    return Number(m[1]);
  }

  async #setCfun(mode: number): Promise<void> {
    await this.#at.commandOk(`AT+CFUN=${mode}`, { timeoutMs: this.#t.cfun });
  }

  /**
   * Puts the anchors under the first owned sec_tag with the modem offline (CFUN=4), then brings the
   * radio up. Restores: the credential is deleted (offline again) and the original CFUN put back.
   */
  async #provision(
    pem: string | null,
    caseStack: RestoreStack,
    log: CaseLog,
    client?: MqttCaseInput['clientCertificate'],
  ): Promise<number> {
    const secTag = this.#own.secTags.first;
    const setup = setupFor(this.#delta, caseStack);
    const wanted: [CmngType, string][] = [];
    if (pem !== null) wanted.push([CMNG_TYPE.rootCa, pem]);
    if (client) wanted.push([CMNG_TYPE.clientCert, client.certPem], [CMNG_TYPE.clientKey, client.keyPem]);
    const held = setup.delta?.files;
    // Under delta configuration the sec_tag already holding exactly these credentials, radio on,
    // is left as it is: no offline/online cycle for a case that changes nothing.
    if (
      setup.delta?.learned &&
      held?.size === wanted.length &&
      wanted.every(([type, content]) => held.get(credentialKey(secTag, type))?.hash === contentHash(content))
    )
      return secTag;
    held?.clear();
    await this.#credentialSession(setup);
    await this.#writeOwned(secTag, wanted, setup, log);
    await this.#online();
    if (setup.delta) {
      for (const [type, content] of wanted)
        setup.delta.files.set(credentialKey(secTag, type), {
          hash: contentHash(content),
          size: content.length,
        });
      setup.delta.settings.set('CMEE', '1');
      setup.delta.learned = true;
    }
    return secTag;
  }

  /** Numeric %CMNG errors for the case, and the original CFUN put back when it ends. */
  async #credentialSession(setup: CaseSetup): Promise<void> {
    await this.#numericErrors(setup);
    const { stack, delta } = setup;
    if (delta && !delta.firstChange('CFUN')) return;
    const before = await this.#cfun();
    stack.push(
      `CFUN back to ${before}`,
      async () => {
        if ((await this.#cfun()) !== before) await this.#setCfun(before);
      },
      { commands: [`AT+CFUN=${before}`] },
    );
  }

  /** %CMNG writes and deletes need the modem out of CFUN 1/2/21. */
  async #offline(): Promise<void> {
    const now = await this.#cfun();
    if (now === 1 || now === 2 || now === 21) await this.#setCfun(4);
  }

  /** Radio on, and bounded wait for registration; returns the last +CEREG answer. */
  async #online(): Promise<RegistrationWait> {
    await this.#setCfun(1);
    return this.#awaitRegistration();
  }

  /**
   * Writes credentials under one owned sec_tag with the modem offline, each listed afterwards; every
   * one is on the restore stack (deleted, offline again) before it is written. Leftovers under the
   * same tag (an interrupted run) are ours to remove; no other tag is looked at.
   */
  async #writeOwned(
    secTag: number,
    wanted: readonly [CmngType, string][],
    { stack, delta }: CaseSetup,
    log?: CaseLog,
  ): Promise<void> {
    await this.#offline();
    for (const c of await this.#store.list(secTag)) {
      if (c.secTag === secTag) await this.#store.delete(secTag, c.type as CmngType);
    }
    for (const [type, content] of wanted) {
      if (!delta || delta.firstChange(credentialKey(secTag, type)))
        stack.push(
          `delete sec_tag ${secTag} type ${type}`,
          async () => {
            await this.#offline();
            const stored = await this.#store.list(secTag);
            if (stored.some((c) => c.secTag === secTag && c.type === type))
              await this.#store.delete(secTag, type);
          },
          // Offline first (%CMNG needs it); the CFUN entry, older, brings the radio back after.
          { commands: ['AT+CFUN=4', `AT%CMNG=3,${secTag},${type}`], bestEffort: true },
        );
      const write = () => this.#store.write(secTag, type, content);
      // On this dialect writing the CA into the sec_tag is both its upload and its binding.
      await (log && type === CMNG_TYPE.rootCa ? anchorStep(log, 'upload', write) : write());
      const listed = await this.#store.list(secTag);
      if (!listed.some((c) => c.secTag === secTag && c.type === type)) {
        throw new Error(`sec_tag ${secTag}: type ${type} not listed after AT%CMNG=0`);
      }
    }
  }

  /**
   * Polls +CEREG until home (1) or roaming (5), bounded; returns the answer and how long it took. A
   * modem that does not answer CEREG? is not waited on; one still unregistered at the bound ends the case.
   */
  async #awaitRegistration(): Promise<RegistrationWait> {
    const started = Date.now();
    const deadline = started + this.#t.registration;
    for (;;) {
      const r = await this.#at.command('AT+CEREG?', { timeoutMs: this.#t.basic });
      if (!r.ok) return { raw: r.final, note: 'CEREG? refused; not waited on' };
      const line = r.lines.find((l) => l.startsWith('+CEREG:'));
      const stat = /^\+CEREG: \d+,(\d+)/.exec(line ?? '')?.[1];
      if (line && (stat === '1' || stat === '5'))
        return { raw: line, note: `registered after ${Date.now() - started} ms` };
      if (Date.now() > deadline)
        throw new Error(`not registered within ${this.#t.registration} ms: ${r.lines.join(' | ')}`);
      await new Promise((resolve) => setTimeout(resolve, this.#t.registrationPollMs));
    }
  }

  async #event(
    type: number,
    failOn: RegExp | undefined,
    timeoutMs: number,
  ): Promise<{ line: string; expected: boolean }> {
    try {
      const line = await this.#at.waitForUrc(new RegExp(`^#XMQTTEVT: ${type},`), {
        timeoutMs,
        ...(failOn ? { failOn } : {}),
      });
      return { line, expected: true };
    } catch (err) {
      if (err instanceof AtUnexpectedUrcError) return { line: err.urc, expected: false };
      throw err;
    }
  }

  async #mqtt(input: MqttCaseInput, secTag: number, stack: RestoreStack, log: CaseLog): Promise<void> {
    const form = this.#connectForm ?? 'cfg-client-id';
    const disconnected = new RegExp(`^#XMQTTEVT: ${EVT.disconnect},`);
    if (form === 'cfg-client-id') {
      await this.#at.commandOk(`AT#XMQTTCFG=${quote(input.clientId)},60,1`, { timeoutMs: this.#t.basic });
    }
    const clientId = form === 'con-client-id' ? `${quote(input.clientId)},` : '';
    // Depending on the SLM release a failed handshake ends #XMQTTCON in ERROR or comes later as
    // `#XMQTTEVT: 0,<negative errno>`; only a CONNACK event (result ≥ 0) proves TLS completed.
    const con = await this.#at.command(
      `AT#XMQTTCON=1,${clientId}"","",${quote(input.host)},${input.port},${secTag}`,
      { timeoutMs: this.#t.connect },
    );
    if (!con.ok) {
      log.code('connect', con.final);
      return;
    }
    const link = { up: true };
    stack.push(
      'MQTT disconnect',
      async () => {
        if (!link.up) return;
        link.up = false;
        const r = await this.#at.command('AT#XMQTTCON=0', { timeoutMs: this.#t.basic });
        if (!r.ok) return log.code('disconnect', r.final);
        log.code('disconnect', (await this.#event(EVT.disconnect, undefined, this.#t.mqttPacket)).line);
      },
      { commands: ['AT#XMQTTCON=0'], bestEffort: true },
    );
    const connack = await this.#event(EVT.connack, disconnected, this.#t.connect);
    log.code('connect', connack.line);
    const result = Number(/^#XMQTTEVT: 0,(-?\d+)$/.exec(connack.line)?.[1] ?? Number.NaN);
    if (!connack.expected || !(result >= 0)) {
      link.up = false;
      return;
    }
    log.reach('tls');
    if (result !== 0) {
      link.up = false; // the broker refused the CONNECT and closed
      return;
    }
    log.reach('mqttConnack');

    const pub = await this.#at.command(`AT#XMQTTPUB=${quote(input.topic)},${quote(input.payload)},1,0`, {
      timeoutMs: this.#t.mqttPacket,
    });
    if (!pub.ok) {
      log.code('publish', pub.final);
      return;
    }
    const ack = await this.#event(EVT.puback, disconnected, this.#t.mqttPacket);
    log.code('publish', ack.line);
    if (!ack.expected) link.up = false;
    if (ack.line === `#XMQTTEVT: ${EVT.puback},0`) log.reach('publishAck');
  }
}

/** Older SLM releases list `<client_id>` among the #XMQTTCON parameters; newer ones take it in #XMQTTCFG. */
export function connectFormOf(testAnswer: readonly string[]): ConnectForm {
  return testAnswer.some((l) => /client_id|clientid/i.test(l)) ? 'con-client-id' : 'cfg-client-id';
}
