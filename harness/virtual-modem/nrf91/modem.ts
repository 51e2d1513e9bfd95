import type { Duplex } from 'node:stream';
import { parseAtArgs } from '../at-args.ts';
import { AtPort, type Dialect } from '../at-port.ts';
import { DeviceClock } from '../clock.ts';
import { type Fault, FaultPlan } from '../faults.ts';
import { type DeviceTimeReport, LatencyClock, type LatencyModel, sleep } from '../latency.ts';
import { MqttSession } from '../mqtt-session.ts';
import type { VirtualNetwork } from '../network.ts';
import type { TrustPersonality } from '../personality.ts';
import type { ReceiveLimitModel } from '../receive-limit.ts';
import { dial, type ModemEnvironment, type TlsAttempt, type TlsRequestSeen } from '../session.ts';
import type { TlsEngine } from '../tls/engine.ts';
import { lazyEngine } from '../tls/engines.ts';
import { TlsSessionCache } from '../tls-sessions.ts';
import { CMNG_ERRORS, CMNG_TYPES, CredentialStore } from './credentials.ts';
import { nrfTlsRequest } from './tls-request.ts';

export interface VirtualNrf91Options {
  readonly personality: TrustPersonality;
  /** Keep TLS sessions between connections and offer them again (default true). */
  readonly sessionCache?: boolean;
  readonly network: VirtualNetwork;
  readonly latency?: LatencyModel;
  readonly faults?: readonly Fault[];
  readonly engine?: { readonly engine: TlsEngine; readonly note: string };
  readonly model?: string;
  /** Modem firmware as AT+CGMR reports it, e.g. mfw_nrf9160_1.2.3. */
  readonly firmware?: string;
  readonly slmVersion?: string;
  readonly imei?: string;
  readonly credentials?: readonly { tag: number; type: number; content: string }[];
  readonly clock?: Date;
  readonly bootMs?: number;
  /** SLM commands this build lacks (e.g. `#XRESET`): answered ERROR, as SLM answers a command it does not know. */
  readonly withoutCommands?: readonly string[];
  /** How long after AT+CFUN=1 the modem takes to register (+CEREG stat 2 until then); 0 by default. */
  readonly attachMs?: number;
  /** The server chain the TLS receive path holds and what happens past it; 4,096 bytes, dropped, by default. */
  readonly receiveLimit?: ReceiveLimitModel;
}

/** The nRF9160's server-chain limit as a Nordic engineer stated it (4 kB); a larger chain is dropped. */
export const NRF91_SERVER_CHAIN_LIMIT_BYTES = 4096;

/** IPPROTO_TLS_1_2 as #XSSOCKET reports it. */
const IPPROTO_TLS_1_2 = 258;
const MAX_SOCKETS = 8;
const HANDSHAKE_TIMEOUT_MS = 30_000;
const MQTT_TIMEOUT_MS = 10_000;
/**
 * #XMQTTEVT result for a connect whose TLS handshake failed. The modem reports a negative errno;
 * which one is not documented publicly: -ECONNREFUSED (Zephyr 111) is used here and is a guess.
 */
const MQTT_TLS_FAILURE = -111;
/** #XMQTTEVT types (SLM MQTT_AT_commands.rst). */
const EVT = { connack: 0, disconnect: 1, publish: 2, puback: 3 } as const;
const CFUN_ACTIVE = new Set([1, 2, 21]);

interface SecureSocket {
  readonly handle: number;
  readonly secTag: number;
  peerVerify: number;
  hostname: string | null;
  stream: Duplex | null;
  readonly received: Buffer[];
}

/**
 * nRF9160 running the Serial LTE Modem application, as its AT port shows it (lab-patterns B.4,
 * at-transcripts T9/T10): the modem's credential store (AT%CMNG, writable only outside CFUN 1/2/21)
 * and SLM's secure sockets and MQTT client over real TCP, TLS and MQTT.
 */
export class VirtualNrf91Modem implements Dialect {
  readonly #port: AtPort;
  readonly #env: ModemEnvironment;
  readonly #faults: FaultPlan;
  readonly #store: CredentialStore;
  readonly #clock: DeviceClock;
  readonly #opts: VirtualNrf91Options;
  #cfun = 0;
  #cmee = 0;
  #sockets = new Map<number, SecureSocket>();
  #nextHandle = 0;
  #mqttCfg: { clientId: string; keepAlive: number; clean: boolean } | null = null;
  /** silent-reset fault: the next #XMQTTCON connects without the sec_tag it names. */
  #dropTlsOnNextConnect = false;
  #mqtt: MqttSession | null = null;
  #epoch = 0;
  /** When the radio, switched on by AT+CFUN=1, is registered (home); infinity while it is off. */
  #registeredAt = Number.POSITIVE_INFINITY;

  constructor(io: Duplex, options: VirtualNrf91Options) {
    this.#opts = options;
    const latency = new LatencyClock(options.latency);
    this.#faults = new FaultPlan(options.faults);
    const lazy = options.engine ? null : lazyEngine(options.personality.engine);
    this.#env = {
      network: options.network,
      latency,
      faults: this.#faults,
      personality: options.personality,
      engine: options.engine?.engine ?? (lazy as ReturnType<typeof lazyEngine>).engine,
      engineNote: () => options.engine?.note ?? (lazy as ReturnType<typeof lazyEngine>).note(),
      tlsLog: [],
      tlsRequests: [],
      sessions: new TlsSessionCache(options.sessionCache ?? true),
      ...receiveLimitsOf(options.receiveLimit?.serverChainBytes),
    };
    this.#store = new CredentialStore(options.credentials ?? []);
    this.#clock = new DeviceClock(options.clock ?? null);
    this.#port = new AtPort(io, latency, this.#faults);
    this.#port.quotedNewlines = true;
    this.#port.attach(this);
    io.once('close', () => this.shutdown());
    this.#port.write('Ready\r\n');
  }

  get model(): string {
    return this.#opts.model ?? 'nRF9160-SICA';
  }

  get firmware(): string {
    return this.#opts.firmware ?? 'mfw_nrf9160_1.2.3';
  }

  credentials() {
    return this.#store.entries();
  }

  tlsAttempts(): readonly TlsAttempt[] {
    return this.#env.tlsLog;
  }

  tlsRequests(): readonly TlsRequestSeen[] {
    return this.#env.tlsRequests;
  }

  deviceTime(): DeviceTimeReport {
    return this.#env.latency.report();
  }

  faultsFired() {
    return this.#faults.fired();
  }

  shutdown(): void {
    this.#dropAll(false);
    this.#env.sessions.clear();
  }

  /**
   * AT#XRESET: SLM answers OK, switches the modem off (CFUN=0) and cold-boots the SiP, then prints
   * `Ready` (sdk-nrf applications/serial_lte_modem/src/slm_at_commands.c handle_at_reset,
   * SLM_SYNC_STR in slm_at_host.c). Sockets, the MQTT client and its #XMQTTCFG are application RAM
   * and gone; the modem comes up in CFUN=0 with CMEE 0; %CMNG credentials are in the modem's
   * non-volatile storage and stay.
   */
  silentReset(): void {
    this.#env.sessions.clear();
    this.#dropTlsOnNextConnect = true;
  }

  reboot(): void {
    this.#epoch++;
    this.#dropAll(false);
    this.#env.sessions.clear();
    this.#cfun = 0;
    this.#registeredAt = Number.POSITIVE_INFINITY;
    this.#cmee = 0;
    this.#mqttCfg = null;
    const ms = this.#opts.bootMs ?? 50;
    this.#port.goOffline(ms);
    const epoch = this.#epoch;
    setTimeout(() => {
      if (epoch !== this.#epoch || this.#port.closed) return;
      this.#port.goOnline();
      // As a URC, so a lose-urc fault can model a banner the host never saw.
      this.#port.urc('Ready');
    }, ms);
  }

  /** Losing the network closes sockets and the MQTT link (a disconnect event). */
  pdpDeactivate(): void {
    this.#dropAll(true);
  }

  dispatch(line: string): void {
    const m = /^AT([+%#][A-Z]+)(=\?|\?|=([\s\S]*))?$/i.exec(line);
    if (!m) return /^AT$/i.test(line) ? this.#port.respond([]) : this.#port.respond([], 'ERROR');
    const name = (m[1] ?? '').toUpperCase();
    const form = m[2] === '=?' ? 'test' : m[2] === '?' ? 'read' : m[2] ? 'write' : 'exec';
    const { values, quoted } = parseAtArgs(m[3] ?? '');
    if (this.#opts.withoutCommands?.some((c) => c.toUpperCase() === name))
      return this.#port.respond([], 'ERROR');
    switch (name) {
      case '+CGMR':
        return this.#port.respond([this.firmware]);
      case '+CGMM':
        return this.#port.respond([this.model]);
      case '+CGMI':
        return this.#port.respond(['Nordic Semiconductor ASA']);
      case '+CGSN':
        return this.#port.respond([form === 'write' ? `+CGSN: "${this.#imei}"` : this.#imei]);
      case '#XSLMVER':
        return this.#port.respond([`#XSLMVER: "${this.#opts.slmVersion ?? '2.0.0'}"`]);
      case '#XRESET':
        this.#port.respond([]);
        return this.reboot();
      case '+CMEE':
        if (form === 'read') return this.#port.respond([`+CMEE: ${this.#cmee}`]);
        if (values[0] !== '0' && values[0] !== '1') return this.#error();
        this.#cmee = Number(values[0]);
        return this.#port.respond([]);
      case '+CFUN':
        return this.#cfunCommand(form, values);
      case '+CCLK': {
        if (form === 'read') return this.#port.respond([`+CCLK: "${this.#clock.format()}"`]);
        const parsed = quoted[0] ? DeviceClock.parse(values[0] ?? '') : null;
        if (!parsed) return this.#error();
        this.#clock.set(parsed.at, parsed.zoneQuarters);
        return this.#port.respond([]);
      }
      case '+CPIN':
        return form === 'read' ? this.#port.respond(['+CPIN: READY']) : this.#error();
      // Registered, with PDN 0 up, only while the radio is on (CFUN=1) and attached: searching (2)
      // for attachMs after CFUN=1, not registered (0) offline (CFUN=4).
      case '+CEREG':
        return form === 'read'
          ? this.#port.respond([`+CEREG: 0,${this.#registered ? 1 : this.#cfun === 1 ? 2 : 0}`])
          : this.#port.respond([]);
      case '+CGACT':
        return form === 'read'
          ? this.#port.respond([`+CGACT: 0,${this.#registered ? 1 : 0}`])
          : this.#error();
      case '+CGDCONT':
        return form === 'read'
          ? this.#port.respond(['+CGDCONT: 0,"IP","internet","10.0.0.2",0,0'])
          : this.#error();
      case '%CMNG':
        return this.#cmng(values);
      case '#XSSOCKET':
        if (form === 'test')
          return this.#port.respond(['#XSSOCKET: (0,1,2),(1,2),(0,1),<sec_tag>,<peer_verify>,<cid>']);
        return this.#ssocket(values);
      case '#XSOCKET':
        return values[0] === '0' ? this.#closeSocket() : this.#error();
      case '#XSSOCKETOPT':
        return this.#ssocketopt(values, quoted);
      case '#XCONNECT':
        return this.#connect(values);
      case '#XSEND':
        return this.#send(values);
      case '#XRECV':
        return this.#recv();
      case '#XMQTTCFG':
        return this.#mqttConfig(form, values);
      case '#XMQTTCON':
        if (form === 'test')
          return this.#port.respond(['#XMQTTCON: (0,1,2),<username>,<password>,<url>,<port>,<sec_tag>']);
        return this.#mqttConnect(values);
      case '#XMQTTPUB':
        return this.#mqttPublish(values);
      default:
        return this.#port.respond([], 'ERROR');
    }
  }

  get #registered(): boolean {
    return this.#cfun === 1 && Date.now() >= this.#registeredAt;
  }

  get #imei(): string {
    return this.#opts.imei ?? '352656100123456';
  }

  #error(cme?: number): void {
    this.#port.respond([], cme !== undefined && this.#cmee === 1 ? `+CME ERROR: ${cme}` : 'ERROR');
  }

  #cfunCommand(form: string, values: string[]): void {
    if (form === 'read') return this.#port.respond([`+CFUN: ${this.#cfun}`]);
    if (form === 'test') return this.#port.respond(['+CFUN: (0,1,4,20,21,30,31,40,41,44)']);
    const fun = Number(values[0]);
    if (![0, 1, 2, 4, 20, 21, 30, 31, 40, 41, 44].includes(fun)) return this.#error();
    if (fun === 1 && this.#cfun !== 1) this.#registeredAt = Date.now() + (this.#opts.attachMs ?? 0);
    if (fun !== 1) this.#registeredAt = Number.POSITIVE_INFINITY;
    this.#cfun = fun;
    this.#port.respond([]);
    if (!CFUN_ACTIVE.has(fun)) this.#dropAll(true);
  }

  #cmng(values: string[]): void {
    const [opText, tagText, typeText] = values;
    const op = Number(opText);
    const tag = tagText === undefined ? undefined : Number(tagText);
    const type = typeText === undefined ? undefined : Number(typeText);
    if (tag !== undefined && !CredentialStore.validTag(tag)) return this.#error();
    if (type !== undefined && !CredentialStore.validType(type)) return this.#error();
    const active = CFUN_ACTIVE.has(this.#cfun);
    switch (op) {
      case 0: {
        if (tag === undefined || type === undefined || values[3] === undefined) return this.#error();
        if (active) return this.#error(CMNG_ERRORS.activeState);
        const err = this.#store.write(tag, type, values[3]);
        return err === null ? this.#port.respond([]) : this.#error(err);
      }
      case 1:
        return this.#port.respond(this.#store.list(tag, type));
      case 2: {
        if (tag === undefined || type === undefined) return this.#error();
        const r = this.#store.read(tag, type);
        return 'line' in r ? this.#port.respond([r.line]) : this.#error(r.error);
      }
      case 3: {
        if (tag === undefined || type === undefined) return this.#error();
        if (active) return this.#error(CMNG_ERRORS.activeState);
        const err = this.#store.delete(tag, type);
        return err === null ? this.#port.respond([]) : this.#error(err);
      }
      default:
        return this.#error();
    }
  }

  /** SLM keeps one active socket per AT session in this model (the last opened). */
  #active(): SecureSocket | null {
    return [...this.#sockets.values()].at(-1) ?? null;
  }

  #ssocket(values: string[]): void {
    const [op, type, role, tagText, verifyText] = values;
    if (op === '0') return this.#closeSocket();
    const tag = Number(tagText);
    const peerVerify = Number(verifyText ?? 2);
    if (
      op !== '1' ||
      type !== '1' ||
      role !== '0' ||
      !CredentialStore.validTag(tag) ||
      ![0, 1, 2].includes(peerVerify)
    )
      return this.#error();
    if (this.#sockets.size >= MAX_SOCKETS) return this.#error();
    const handle = this.#nextHandle++;
    this.#sockets.set(handle, {
      handle,
      secTag: tag,
      peerVerify,
      hostname: null,
      stream: null,
      received: [],
    });
    this.#port.respond([`#XSSOCKET: ${handle},1,${IPPROTO_TLS_1_2}`]);
  }

  #closeSocket(): void {
    const s = this.#active();
    if (!s) return this.#error();
    this.#sockets.delete(s.handle);
    s.stream?.destroy();
    this.#port.respond(['#XSOCKET: 0,"closed"']);
  }

  #ssocketopt(values: string[], quoted: boolean[]): void {
    const [op, nameText, value] = values;
    const s = this.#active();
    if (!s || op !== '1') return this.#error();
    const name = Number(nameText);
    if (name === 2 && quoted[2]) {
      // TLS_HOSTNAME; "NULL" clears it (no name check, no SNI).
      s.hostname = value === 'NULL' ? null : (value ?? null);
      return this.#port.respond([]);
    }
    if (name === 5 && ['0', '1', '2'].includes(value ?? '')) {
      s.peerVerify = Number(value);
      return this.#port.respond([]);
    }
    this.#error();
  }

  #tlsFor(secTag: number, peerVerify: number, hostname: string | null, port: number) {
    return (address: string) =>
      nrfTlsRequest({
        personality: this.#env.personality,
        caPem: this.#store.get(secTag, CMNG_TYPES.rootCa),
        peerVerify,
        hostname,
        address,
        port,
        deviceTime: this.#clock.now(),
        timeoutMs: HANDSHAKE_TIMEOUT_MS,
      });
  }

  #connect(values: string[]): void {
    const s = this.#active();
    const [host, portText] = values;
    const port = Number(portText);
    if (!s || !host || !Number.isInteger(port) || port < 1 || port > 65535 || s.stream) return this.#error();
    if (!this.#registered) return this.#error();
    const epoch = this.#epoch;
    // #XCONNECT only resolves and connects: it does not set TLS_HOSTNAME (B.4).
    void dial(this.#env, host, port, this.#tlsFor(s.secTag, s.peerVerify, s.hostname, port)).then((r) => {
      if (epoch !== this.#epoch || this.#sockets.get(s.handle) !== s) {
        if (r.ok) r.stream.destroy();
        return;
      }
      if (!r.ok && r.overLimit && this.#opts.receiveLimit?.past === 'reboot') return this.reboot();
      if (!r.ok) return this.#error();
      s.stream = r.stream;
      r.stream.on('data', (c: Buffer) => s.received.push(c));
      r.stream.on('error', () => {});
      this.#port.respond(['#XCONNECT: 1']);
    });
  }

  #send(values: string[]): void {
    const s = this.#active();
    if (!s?.stream || values[0] === undefined) return this.#error();
    const data = Buffer.from(values[0], 'utf8');
    s.stream.write(data);
    this.#port.respond([`#XSEND: ${data.length}`]);
  }

  #recv(): void {
    const s = this.#active();
    if (!s) return this.#error();
    const data = Buffer.concat(s.received.splice(0));
    this.#port.write(`\r\n#XRECV: ${data.length}\r\n`);
    if (data.length > 0) this.#port.write(data);
    this.#port.respond([]);
  }

  #mqttConfig(form: string, values: string[]): void {
    if (form === 'read') {
      // `#XMQTTCFG: "<client_id>",<keep_alive>,<clean_session>` (slm_at_mqtt.c read form). Before any
      // #XMQTTCFG since boot this model answers the zero-initialised state; which defaults a given
      // SLM release reports then is not documented (the later Serial Modem app sets its own).
      const c = this.#mqttCfg;
      return this.#port.respond([
        c ? `#XMQTTCFG: "${c.clientId}",${c.keepAlive},${c.clean ? 1 : 0}` : '#XMQTTCFG: "",0,0',
      ]);
    }
    const [clientId, keepAlive, clean] = values;
    if (!clientId) return this.#error();
    this.#mqttCfg = { clientId, keepAlive: Number(keepAlive ?? 60), clean: (clean ?? '1') === '1' };
    this.#port.respond([]);
  }

  #mqttConnect(values: string[]): void {
    const [op, , , url, portText, tagText] = values;
    if (op === '0') {
      if (!this.#mqtt) return this.#error();
      const session = this.#mqtt;
      this.#mqtt = null;
      session.disconnect();
      this.#port.respond([]);
      return this.#port.urc(`#XMQTTEVT: ${EVT.disconnect},0`);
    }
    const port = Number(portText);
    if (op !== '1' || !url || !Number.isInteger(port) || !this.#mqttCfg || this.#mqtt) return this.#error();
    if (!this.#registered) return this.#error();
    this.#port.respond([]);
    const cfg = this.#mqttCfg;
    const epoch = this.#epoch;
    // With a sec_tag SLM forces peer_verify = required and hostname = the broker URL (B.4).
    const dropTls = this.#dropTlsOnNextConnect;
    this.#dropTlsOnNextConnect = false;
    const tls = tagText === undefined || dropTls ? () => null : this.#tlsFor(Number(tagText), 2, url, port);
    void (async () => {
      const r = await dial(this.#env, url, port, tls);
      if (epoch !== this.#epoch) {
        if (r.ok) r.stream.destroy();
        return;
      }
      // The crash model: a chain over the limit restarts the modem instead of failing the connect.
      if (!r.ok && r.overLimit && this.#opts.receiveLimit?.past === 'reboot') return this.reboot();
      if (!r.ok) {
        return this.#port.urc(`#XMQTTEVT: ${EVT.connack},${r.stage === 'tls' ? MQTT_TLS_FAILURE : -111}`);
      }
      const session = new MqttSession(r.stream, 4, this.#env.latency.closeLag());
      const ack = await session.connect(cfg.clientId, MQTT_TIMEOUT_MS);
      await sleep(this.#env.latency.roundTrips(1));
      if (epoch !== this.#epoch) return session.destroy();
      if (!ack.ok || ack.value !== 0) {
        session.destroy();
        return this.#port.urc(`#XMQTTEVT: ${EVT.connack},${ack.ok ? -ack.value : -116}`);
      }
      this.#mqtt = session;
      session.onClose(() => {
        if (this.#mqtt !== session) return;
        this.#mqtt = null;
        this.#port.urc(`#XMQTTEVT: ${EVT.disconnect},-128`);
      });
      this.#port.urc(`#XMQTTEVT: ${EVT.connack},0`);
    })();
  }

  #mqttPublish(values: string[]): void {
    const [topic, message, qosText, retainText] = values;
    const qos = Number(qosText ?? 0);
    const session = this.#mqtt;
    if (!session || !topic || (qos !== 0 && qos !== 1) || !['0', '1', undefined].includes(retainText))
      return this.#error();
    this.#port.respond([]);
    const epoch = this.#epoch;
    void session
      .publish(topic, Buffer.from(message ?? '', 'utf8'), qos, 1, MQTT_TIMEOUT_MS)
      .then(async (r) => {
        if (qos === 0 || epoch !== this.#epoch) return;
        await sleep(this.#env.latency.roundTrips(1));
        this.#port.urc(`#XMQTTEVT: ${EVT.puback},${r.ok ? 0 : -116}`);
      });
  }

  #dropAll(report: boolean): void {
    for (const s of this.#sockets.values()) s.stream?.destroy();
    this.#sockets.clear();
    const session = this.#mqtt;
    this.#mqtt = null;
    session?.destroy();
    if (report && session) this.#port.urc(`#XMQTTEVT: ${EVT.disconnect},-128`);
  }
}

function receiveLimitsOf(bytes: number | null | undefined): Pick<ModemEnvironment, 'receiveLimits'> {
  const limit = bytes === undefined ? NRF91_SERVER_CHAIN_LIMIT_BYTES : bytes;
  return limit === null ? {} : { receiveLimits: { serverChainBytes: limit } };
}
