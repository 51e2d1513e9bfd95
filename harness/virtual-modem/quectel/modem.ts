import type { Duplex } from 'node:stream';
import { anchorFileAsPem } from '../../../certs/pem.ts';
import { parseAtArgs } from '../at-args.ts';
import { AtPort, type Dialect } from '../at-port.ts';
import { DeviceClock } from '../clock.ts';
import { type Fault, FaultPlan } from '../faults.ts';
import { type DeviceTimeReport, LatencyClock, type LatencyModel, sleep } from '../latency.ts';
import { MqttSession } from '../mqtt-session.ts';
import type { VirtualNetwork } from '../network.ts';
import type { TrustPersonality } from '../personality.ts';
import { dial, type ModemEnvironment, type TlsAttempt, type TlsRequestSeen } from '../session.ts';
import { anchorLoadError } from '../tls/anchor-load.ts';
import type { TlsEngine } from '../tls/engine.ts';
import { lazyEngine } from '../tls/engines.ts';
import { TlsSessionCache } from '../tls-sessions.ts';
import { type QuectelModel, quectelModel } from './models.ts';
import {
  formatSslValue,
  newSslContexts,
  resolveSslKey,
  SSL_CONTEXT_COUNT,
  type SslContext,
  sslTestLines,
  validateSslValue,
} from './ssl-contexts.ts';
import { quectelTlsRequest } from './tls-request.ts';
import { CME_INCORRECT_PARAMETERS, UFS_CAPACITY, UFS_ERRORS, UfsStore } from './ufs.ts';

export interface VirtualQuectelOptions {
  readonly personality: TrustPersonality;
  /** Keep TLS sessions between connections and offer them again (default true). */
  readonly sessionCache?: boolean;
  readonly network: VirtualNetwork;
  readonly latency?: LatencyModel;
  readonly faults?: readonly Fault[];
  /** An engine chosen up front (startVirtualModem does); by default chosen on first handshake. */
  readonly engine?: { readonly engine: TlsEngine; readonly note: string };
  readonly model?: string;
  readonly firmware?: string;
  readonly imei?: string;
  /** Files on the module before the harness arrives (name → content). */
  readonly files?: Readonly<Record<string, Buffer | string>>;
  /** Module clock at start; host time by default (network time). */
  readonly clock?: Date;
  /** How long a reboot keeps the module silent before RDY. */
  readonly bootMs?: number;
  /** How long after RDY the module takes to register on the network (CEREG stat 2, QMTOPEN result 3 until then). */
  readonly attachMs?: number;
}

const MQTT_CLIENTS = 6;
const SSL_CLIENTS = 12;
const MQTT_PACKET_TIMEOUT_MS = 5_000;
/** No public source names the QSSLOPEN code of a failed handshake; 566 "socket connection failed" is closest. */
const QSSLOPEN_TLS_FAILURE = 566;

/** TCP/IP result codes (docs/002 chapter 5), for QIGETERROR and +CME ERROR in mode 2. */
const QI_ERRORS: Readonly<Record<number, string>> = {
  0: 'Operation successful',
  550: 'Unknown error',
  551: 'Operation blocked',
  552: 'Invalid parameter',
  553: 'Memory not enough',
  554: 'Create socket failed',
  555: 'Operation not supported',
  556: 'Socket bind failed',
  557: 'Socket listen failed',
  558: 'Socket write failed',
  559: 'Socket read failed',
  560: 'Socket accept failed',
  561: 'Open PDP context failed',
  562: 'Close PDP context failed',
  563: 'Socket identity has been used',
  564: 'DNS busy',
  565: 'DNS parse failed',
  566: 'Socket connection failed',
  567: 'Socket has been closed',
  568: 'Operation busy',
  569: 'Operation timeout',
  570: 'PDP context break down',
  571: 'Cancel send',
  572: 'Operation not allowed',
  573: 'APN not configured',
  574: 'Port busy',
};

const CME_TEXT: Readonly<Record<number, string>> = {
  3: 'operation not allowed',
  4: 'operation not supported',
  50: 'Incorrect parameters',
  402: 'read zero byte',
  403: 'drive full',
  405: 'file not found',
  407: 'file already exists',
  ...QI_ERRORS,
};

interface MqttClientState {
  sslEnabled: boolean;
  sslContext: number;
  version: 3 | 4;
  /** Other QMTCFG keys, stored and read back verbatim. */
  readonly settings: Map<string, string>;
  state: 'idle' | 'opening' | 'open' | 'connected';
  session: MqttSession | null;
  host: string;
  port: number;
}

interface SslSocketState {
  readonly id: number;
  readonly ctx: number;
  readonly pdp: number;
  readonly host: string;
  readonly port: number;
  readonly mode: number;
  state: 1 | 2 | 4;
  stream: Duplex | null;
  readonly buffer: Buffer[];
}

const newMqttClient = (): MqttClientState => ({
  sslEnabled: false,
  sslContext: 0,
  version: 4,
  settings: new Map(),
  state: 'idle',
  session: null,
  host: '',
  port: 0,
});

/**
 * A Quectel EC200x/EC800x module as its AT port shows it (docs/002, lab-patterns Part B):
 * UFS files, six SSL contexts, MQTT clients 0–5 and SSL sockets 0–11, with real TCP, TLS and MQTT
 * behind them. What it answers comes from the vendor's documents, not from what a driver sends.
 */
export class VirtualQuectelModem implements Dialect {
  readonly #port: AtPort;
  readonly #env: ModemEnvironment;
  readonly #faults: FaultPlan;
  readonly #model: QuectelModel;
  readonly #firmware: string;
  readonly #imei: string;
  readonly #bootMs: number;
  readonly #attachMs: number;
  readonly #ufs: UfsStore;
  readonly #clock: DeviceClock;
  #ssl: SslContext[] = newSslContexts();
  #mqtt: MqttClientState[] = Array.from({ length: MQTT_CLIENTS }, newMqttClient);
  #sockets = new Map<number, SslSocketState>();
  #cmee = 1;
  #pdpActive = true;
  /** When the module is (or will be) registered on the network: at start, and attachMs after each RDY. */
  #registeredAt = 0;
  /** APN of PDP context 1, as AT+QICSGP last set it. */
  #apn = 'internet';
  #cfun = 1;
  #lastQiError = 0;
  /** Bumped on every reboot: work started before it must not report afterwards. */
  #epoch = 0;

  constructor(io: Duplex, options: VirtualQuectelOptions) {
    const latency = new LatencyClock(options.latency);
    const faults = new FaultPlan(options.faults);
    const chosen = options.engine ?? null;
    const lazy = chosen ? null : lazyEngine(options.personality.engine);
    this.#env = {
      network: options.network,
      latency,
      faults,
      personality: options.personality,
      engine: chosen?.engine ?? (lazy as ReturnType<typeof lazyEngine>).engine,
      engineNote: () => chosen?.note ?? (lazy as ReturnType<typeof lazyEngine>).note(),
      tlsLog: [],
      tlsRequests: [],
      sessions: new TlsSessionCache(options.sessionCache ?? true),
    };
    this.#faults = faults;
    this.#port = new AtPort(io, latency, faults);
    const port = this.#port;
    io.once('close', () => this.shutdown());
    this.#model = quectelModel(options.model);
    this.#firmware = options.firmware ?? this.#model.defaultFirmware;
    this.#imei = options.imei ?? '866123456789012';
    this.#bootMs = options.bootMs ?? 50;
    this.#attachMs = options.attachMs ?? 0;
    this.#ufs = new UfsStore(options.files ?? {}, UFS_CAPACITY);
    this.#clock = new DeviceClock(options.clock ?? null);
    port.attach(this);
    port.urc('RDY');
  }

  get model(): string {
    return this.#model.model;
  }

  get firmware(): string {
    return this.#firmware;
  }

  /** Files as the module holds them now; for tests that check nothing foreign was touched. */
  files(): ReadonlyMap<string, Buffer> {
    return this.#ufs.entries();
  }

  /** Every TLS handshake so far: which engine answered, what it saw and said. */
  tlsAttempts(): readonly TlsAttempt[] {
    return this.#env.tlsLog;
  }

  tlsRequests(): readonly TlsRequestSeen[] {
    return this.#env.tlsRequests;
  }

  /** Modelled time the modem spent (serial, processing, network); zero without a latency model. */
  deviceTime(): DeviceTimeReport {
    return this.#env.latency.report();
  }

  faultsFired() {
    return this.#faults.fired();
  }

  /** Releases every network session (the host side closed the port). */
  shutdown(): void {
    this.#dropSessions(false);
    this.#env.sessions.clear();
  }

  // ---- Dialect ---------------------------------------------------------------------------------

  silentReset(): void {
    this.#env.sessions.clear();
    this.#ssl = newSslContexts();
    // Idle clients lose their configuration (QMTCFG "ssl" back to off); open sessions stay up.
    this.#mqtt = this.#mqtt.map((c) => (c.state === 'idle' ? newMqttClient() : c));
  }

  reboot(reason: 'command' | 'fault'): void {
    this.#epoch++;
    this.#dropSessions(false);
    this.#env.sessions.clear();
    this.#ssl = newSslContexts();
    this.#mqtt = Array.from({ length: MQTT_CLIENTS }, newMqttClient);
    this.#cmee = 1;
    this.#cfun = 1;
    this.#port.goOffline(this.#bootMs);
    this.#port.echo = true;
    this.#registeredAt = Number.POSITIVE_INFINITY;
    const epoch = this.#epoch;
    setTimeout(() => {
      if (this.#epoch !== epoch || this.#port.closed) return;
      this.#pdpActive = true;
      this.#registeredAt = Date.now() + this.#attachMs;
      this.#port.goOnline();
      this.#port.urc('RDY');
    }, this.#bootMs);
    if (reason === 'fault') this.#pdpActive = false;
  }

  pdpDeactivate(): void {
    if (!this.#pdpActive) return;
    this.#pdpActive = false;
    this.#port.urc('+QIURC: "pdpdeact",1');
    this.#dropSessions(true);
  }

  dispatch(line: string): void {
    const m = /^AT(.*)$/i.exec(line);
    if (!m) return this.#port.respond([], 'ERROR');
    const body = m[1] ?? '';
    const upper = body.toUpperCase();
    if (upper === '') return this.#ok();
    if (upper === 'E0' || upper === 'E1') {
      this.#port.echo = upper === 'E1';
      return this.#ok();
    }
    if (upper === 'I') return this.#ok(['Quectel', this.#model.model, `Revision: ${this.#firmware}`]);
    if (upper === '+GMR' || upper === '+CGMR') return this.#ok([this.#firmware]);
    if (upper === '+QGMR') return this.#ok([`${this.#firmware}_01.001.01.001`]);
    if (upper === '+CGMI' || upper === '+GMI') return this.#ok(['Quectel']);
    if (upper === '+CGMM' || upper === '+GMM') return this.#ok([this.#model.model]);
    if (upper === '+CGSN' || upper === '+GSN') return this.#ok([this.#imei]);
    if (upper === '+QIGETERROR') {
      return this.#ok([
        `+QIGETERROR: ${this.#lastQiError},${QI_ERRORS[this.#lastQiError] ?? 'Unknown error'}`,
      ]);
    }
    const cmd = /^(\+[A-Z]+)(=\?|\?|=(.*))?$/i.exec(body);
    if (!cmd) return this.#port.respond([], 'ERROR');
    const name = (cmd[1] ?? '').toUpperCase();
    const form: 'test' | 'read' | 'write' | 'exec' =
      cmd[2] === '=?' ? 'test' : cmd[2] === '?' ? 'read' : cmd[2] ? 'write' : 'exec';
    const args = parseAtArgs(cmd[3] ?? '');
    const handler = this.#handlers[name];
    if (!handler) return this.#port.respond([], 'ERROR');
    handler(form, args.values, args.quoted);
  }

  // ---- answers ---------------------------------------------------------------------------------

  #ok(lines: readonly string[] = []): void {
    this.#port.respond(lines);
  }

  /** An error as the CMEE mode says: ERROR, +CME ERROR: <n>, or +CME ERROR: <text>. */
  #error(cme?: number): void {
    if (cme === undefined || this.#cmee === 0) return this.#port.respond([], 'ERROR');
    this.#port.respond([], `+CME ERROR: ${this.#cmee === 2 ? (CME_TEXT[cme] ?? String(cme)) : cme}`);
  }

  /** TCP/IP commands record their result for AT+QIGETERROR. */
  #qiError(code: number): void {
    this.#lastQiError = code;
    this.#error(code);
  }

  readonly #handlers: Record<
    string,
    (form: 'test' | 'read' | 'write' | 'exec', values: string[], quoted: boolean[]) => void
  > = {
    '+CMEE': (form, v) => {
      if (form === 'test') return this.#ok(['+CMEE: (0-2)']);
      if (form === 'read') return this.#ok([`+CMEE: ${this.#cmee}`]);
      const n = Number(v[0]);
      if (![0, 1, 2].includes(n)) return this.#error(CME_INCORRECT_PARAMETERS);
      this.#cmee = n;
      this.#ok();
    },
    '+CPIN': (form) => (form === 'read' ? this.#ok(['+CPIN: READY']) : this.#error(3)),
    '+CFUN': (form, v) => this.#cfunCommand(form, v),
    '+CCLK': (form, v, q) => {
      if (form === 'read') return this.#ok([`+CCLK: "${this.#clock.format()}"`]);
      if (form === 'test') return this.#ok();
      const parsed = form === 'write' && q[0] ? DeviceClock.parse(v[0] ?? '') : null;
      if (!parsed) return this.#error(CME_INCORRECT_PARAMETERS);
      this.#clock.set(parsed.at, parsed.zoneQuarters);
      this.#ok();
    },
    '+QICSGP': (form, v) => {
      if (form === 'test') return this.#ok(['+QICSGP: (1-15),(1-3),<APN>,<username>,<password>,(0-3)']);
      if (form === 'write' && Number(v[0]) === 1 && v[2] !== undefined) this.#apn = v[2];
      this.#ok();
    },
    // Network status, as a health check reads it: registered on the home network while the PDP
    // context is up (a PDP deactivation fault shows as not registered).
    '+CEREG': (form) => (form === 'read' ? this.#ok([`+CEREG: 0,${this.#registrationStat()}`]) : this.#ok()),
    '+CREG': (form) => (form === 'read' ? this.#ok([`+CREG: 0,${this.#registrationStat()}`]) : this.#ok()),
    '+CGDCONT': (form) =>
      form === 'read' ? this.#ok([`+CGDCONT: 1,"IP","${this.#apn}","10.7.157.1",0,0,0`]) : this.#ok(),
    '+QIACT': (form, v) => {
      if (form === 'read') return this.#ok(this.#pdpActive ? ['+QIACT: 1,1,1,"10.7.157.1"'] : []);
      if (form === 'test') return this.#ok(['+QIACT: (1-15)']);
      if (Number(v[0]) !== 1) return this.#qiError(552);
      this.#pdpActive = true;
      this.#lastQiError = 0;
      this.#ok();
    },
    '+QIDEACT': (form, v) => {
      if (form !== 'write' || Number(v[0]) !== 1) return this.#qiError(552);
      this.#ok();
      this.#pdpActive = false;
      this.#dropSessions(true);
    },
    '+QFLST': (form, v) => {
      if (form === 'test') return this.#ok();
      this.#ok(this.#ufs.list(v[0] ?? '*').map(([n, d]) => `+QFLST: "UFS:${n}",${d.length}`));
    },
    '+QFLDS': (form) => {
      if (form === 'test') return this.#ok(['+QFLDS: "UFS"']);
      this.#ok([`+QFLDS: ${this.#ufs.free()},${this.#ufs.capacity}`]);
    },
    '+QFDEL': (form, v) => {
      if (form === 'test') return this.#ok(['+QFDEL: <filename>']);
      const err = this.#ufs.delete(v[0] ?? '');
      return err === null ? this.#ok() : this.#error(err);
    },
    '+QFUPL': (form, v) => this.#upload(form, v),
    '+QSSLCFG': (form, v, q) => this.#sslConfig(form, v, q),
    '+QMTCFG': (form, v) => this.#mqttConfig(form, v),
    '+QMTOPEN': (form, v) => this.#mqttOpen(form, v),
    '+QMTCONN': (form, v) => this.#mqttConnect(form, v),
    '+QMTPUB': (form, v, q) => this.#mqttPublish('QMTPUB', form, v, q),
    '+QMTPUBEX': (form, v, q) => this.#mqttPublish('QMTPUBEX', form, v, q),
    '+QMTDISC': (form, v) => this.#mqttDisconnect(form, v),
    '+QMTCLOSE': (form, v) => this.#mqttClose(form, v),
    '+QSSLOPEN': (form, v) => this.#sslOpen(form, v),
    '+QSSLSEND': (form, v) => this.#sslSend(form, v),
    '+QSSLRECV': (form, v) => this.#sslRecv(form, v),
    '+QSSLCLOSE': (form, v) => this.#sslClose(form, v),
    '+QSSLSTATE': (form, v) => this.#sslState(form, v),
  };

  #cfunCommand(form: string, v: string[]): void {
    if (form === 'test') return this.#ok(['+CFUN: (0,1,4),(0,1)']);
    if (form === 'read') return this.#ok([`+CFUN: ${this.#cfun}`]);
    const fun = Number(v[0]);
    const reset = Number(v[1] ?? 0);
    if (![0, 1, 4].includes(fun) || ![0, 1].includes(reset)) return this.#error(CME_INCORRECT_PARAMETERS);
    this.#ok();
    if (reset === 1) return this.reboot('command');
    this.#cfun = fun;
    if (fun !== 1) this.pdpDeactivate();
  }

  #upload(form: string, v: string[]): void {
    if (form === 'test') return this.#ok([`+QFUPL: <filename>,(1-${this.#ufs.free()}),(1-65535),(0,1)`]);
    if (form !== 'write') return this.#error(CME_INCORRECT_PARAMETERS);
    const name = v[0] ?? '';
    const size = Number(v[1] ?? 10240);
    const timeoutS = Number(v[2] ?? 5);
    const err = this.#ufs.checkUpload(name, size);
    if (err !== null) return this.#error(err);
    if (!Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > 65535)
      return this.#error(CME_INCORRECT_PARAMETERS);
    this.#port.respond([], 'CONNECT');
    const epoch = this.#epoch;
    this.#port.collect(size, timeoutS * 1000, (data) => {
      if (epoch !== this.#epoch) return;
      // A timed-out upload keeps what arrived and says how much (the host must compare sizes).
      if (data.length === 0) return this.#error(UFS_ERRORS.zeroBytes);
      this.#ok([this.#ufs.store(name, data)]);
    });
  }

  #sslConfig(form: string, v: string[], q: boolean[]): void {
    if (form === 'test') return this.#ok(sslTestLines(this.#model));
    if (form !== 'write') return this.#error(CME_INCORRECT_PARAMETERS);
    const [typed = '', ctxText, value] = v;
    const key = resolveSslKey(this.#model, typed);
    if (!key) return this.#error(CME_INCORRECT_PARAMETERS);
    // "cacertex" without a context lists every context (docs/002 §2.2.1).
    if (ctxText === undefined && key === 'cacertex') {
      return this.#ok(this.#ssl.map((c, i) => formatSslValue(typed, key, i, c.cacertex)));
    }
    const ctx = Number(ctxText);
    if (!Number.isInteger(ctx) || ctx < 0 || ctx >= SSL_CONTEXT_COUNT)
      return this.#error(CME_INCORRECT_PARAMETERS);
    const context = this.#ssl[ctx] as SslContext;
    if (value === undefined) return this.#ok([formatSslValue(typed, key, ctx, context[key])]);
    const stored = validateSslValue(key, value, q[2] ?? false);
    if (stored === null) return this.#port.respond([], 'ERROR');
    if (key === 'cacert' && stored !== '' && this.#env.personality.anchorLoad === 'at-bind') {
      const file = this.#ufs.get(stored);
      if (!file || anchorLoadError(anchorFileAsPem(file)) !== null) return this.#port.respond([], 'ERROR');
    }
    context[key] = stored;
    this.#ok();
  }

  // ---- MQTT ------------------------------------------------------------------------------------

  #client(text: string | undefined): MqttClientState | null {
    const idx = Number(text);
    return text !== undefined && Number.isInteger(idx) && idx >= 0 && idx < MQTT_CLIENTS
      ? (this.#mqtt[idx] ?? null)
      : null;
  }

  #mqttConfig(form: string, v: string[]): void {
    if (form === 'test') {
      return this.#ok([
        '+QMTCFG: "version",(0-5),(3,4)',
        '+QMTCFG: "pdpcid",(0-5),(1-15)',
        '+QMTCFG: "ssl",(0-5),(0,1),(0-5)',
        '+QMTCFG: "keepalive",(0-5),(0-3600)',
        '+QMTCFG: "session",(0-5),(0,1)',
        '+QMTCFG: "timeout",(0-5),(1-60),(0-10),(0,1)',
        '+QMTCFG: "will",(0-5),(0,1),(0-2),(0,1),<will_topic>,<will_msg>',
        '+QMTCFG: "recv/mode",(0-5),(0,1),(0,1)',
      ]);
    }
    const [key = '', idxText, ...rest] = v;
    const client = this.#client(idxText);
    if (!client) return this.#error(CME_INCORRECT_PARAMETERS);
    const k = key.toLowerCase();
    if (k === 'ssl') {
      if (rest.length === 0) {
        return this.#ok([`+QMTCFG: "ssl",${idxText},${client.sslEnabled ? 1 : 0},${client.sslContext}`]);
      }
      const enable = Number(rest[0]);
      const ctx = Number(rest[1] ?? client.sslContext);
      if (![0, 1].includes(enable) || !Number.isInteger(ctx) || ctx < 0 || ctx >= SSL_CONTEXT_COUNT)
        return this.#error(CME_INCORRECT_PARAMETERS);
      client.sslEnabled = enable === 1;
      client.sslContext = ctx;
      return this.#ok();
    }
    if (k === 'version') {
      if (rest.length === 0) return this.#ok([`+QMTCFG: "version",${idxText},${client.version}`]);
      const ver = Number(rest[0]);
      if (ver !== 3 && ver !== 4) return this.#error(CME_INCORRECT_PARAMETERS);
      client.version = ver;
      return this.#ok();
    }
    if (['pdpcid', 'keepalive', 'session', 'timeout', 'will', 'recv/mode'].includes(k)) {
      if (rest.length === 0) {
        const stored = client.settings.get(k);
        return this.#ok(stored === undefined ? [] : [`+QMTCFG: "${k}",${idxText},${stored}`]);
      }
      client.settings.set(k, rest.join(','));
      return this.#ok();
    }
    this.#error(CME_INCORRECT_PARAMETERS);
  }

  #mqttOpen(form: string, v: string[]): void {
    if (form === 'test') return this.#ok(['+QMTOPEN: (0-5),<host_name>,(0-65535)']);
    if (form === 'read') {
      return this.#ok(
        this.#mqtt.flatMap((c, i) => (c.state === 'idle' ? [] : [`+QMTOPEN: ${i},"${c.host}",${c.port}`])),
      );
    }
    const [idxText, host, portText] = v;
    const client = this.#client(idxText);
    const port = Number(portText);
    if (!client || !host || !Number.isInteger(port) || port < 1 || port > 65535)
      return this.#error(CME_INCORRECT_PARAMETERS);
    this.#ok();
    if (client.state !== 'idle') return this.#port.urc(`+QMTOPEN: ${idxText},2`);
    client.state = 'opening';
    client.host = host;
    client.port = port;
    const epoch = this.#epoch;
    void this.#openMqttConnection(client, host, port).then((code) => {
      if (epoch !== this.#epoch) return;
      if (code !== 0) client.state = 'idle';
      this.#port.urc(`+QMTOPEN: ${idxText},${code}`);
    });
  }

  /** 27.007 <stat>: 1 registered (home), 2 searching. */
  #registrationStat(): 1 | 2 {
    return this.#pdpActive && Date.now() >= this.#registeredAt ? 1 : 2;
  }

  /** TCP, then TLS when the client has SSL on; returns the +QMTOPEN result (lab-patterns B.1). */
  async #openMqttConnection(client: MqttClientState, host: string, port: number): Promise<number> {
    // QMTOPEN activates the PDP context it needs (result 3 when it cannot: not yet on the network).
    if (Date.now() < this.#registeredAt) return 3;
    this.#pdpActive = true;
    if (client.sslEnabled && this.#anchorUnloadable(client.sslContext))
      return this.#env.personality.tlsFailureOpenCode;
    const epoch = this.#epoch;
    const r = await dial(this.#env, host, port, (address) =>
      client.sslEnabled ? this.#tlsRequest(client.sslContext, address, host, port) : null,
    );
    if (epoch !== this.#epoch) {
      if (r.ok) r.stream.destroy();
      return -1;
    }
    if (!r.ok) {
      if (r.stage === 'dns') return 4;
      if (r.stage === 'tcp') return 5;
      return this.#env.personality.tlsFailureOpenCode;
    }
    this.#attachMqtt(client, r.stream);
    return 0;
  }

  /** A stack that loads the CA at open (`anchorLoad: at-open`) and cannot load this context's: it never dials. */
  #anchorUnloadable(ctxIndex: number): boolean {
    if (this.#env.personality.anchorLoad !== 'at-open') return false;
    const path = (this.#ssl[ctxIndex] as SslContext).cacert;
    const file = path ? this.#ufs.get(path) : undefined;
    return file !== undefined && anchorLoadError(anchorFileAsPem(file)) !== null;
  }

  #tlsRequest(ctxIndex: number, address: string, host: string, port: number) {
    const ctx = this.#ssl[ctxIndex] as SslContext;
    // The stack's loader reads PEM or one DER certificate (mbedTLS x509_crt_parse).
    const read = (path: string) => {
      const file = path ? this.#ufs.get(path) : undefined;
      return file ? anchorFileAsPem(file) : null;
    };
    return quectelTlsRequest({
      context: ctx,
      personality: this.#env.personality,
      cacertPem: read(ctx.cacert),
      cacertexPem: read(ctx.cacertex),
      clientcertPem: read(ctx.clientcert),
      clientkeyPem: read(ctx.clientkey),
      address,
      port,
      dialledHost: host,
      deviceTime: this.#clock.now(),
    });
  }

  #attachMqtt(client: MqttClientState, socket: Duplex): void {
    const session = new MqttSession(socket, client.version, this.#env.latency.closeLag());
    client.session = session;
    client.state = 'open';
    session.onClose(() => {
      if (client.session !== session) return;
      client.session = null;
      client.state = 'idle';
      this.#port.urc(`+QMTSTAT: ${this.#mqtt.indexOf(client)},1`);
    });
  }

  #mqttConnect(form: string, v: string[]): void {
    if (form === 'test') return this.#ok(['+QMTCONN: (0-5),<clientid>,<username>,<password>']);
    if (form === 'read') {
      const states = { idle: 1, opening: 1, open: 2, connected: 3 } as const;
      return this.#ok(
        this.#mqtt.flatMap((c, i) => (c.state === 'idle' ? [] : [`+QMTCONN: ${i},${states[c.state]}`])),
      );
    }
    const [idxText, clientId] = v;
    const client = this.#client(idxText);
    if (!client || !clientId) return this.#error(CME_INCORRECT_PARAMETERS);
    if (client.state !== 'open' || !client.session) return this.#error(3);
    this.#ok();
    const epoch = this.#epoch;
    void client.session.connect(clientId, MQTT_PACKET_TIMEOUT_MS).then(async (r) => {
      await sleep(this.#env.latency.roundTrips(1));
      if (epoch !== this.#epoch) return;
      if (r.ok && r.value === 0) client.state = 'connected';
      this.#port.urc(r.ok ? `+QMTCONN: ${idxText},0,${r.value}` : `+QMTCONN: ${idxText},2`);
    });
  }

  #mqttPublish(command: 'QMTPUB' | 'QMTPUBEX', form: string, v: string[], q: boolean[]): void {
    if (!this.#model.publishCommands.includes(command)) return this.#port.respond([], 'ERROR');
    if (form === 'test') {
      return this.#ok([`+${command}: (0-5),<msgid>,(0-2),(0,1),<topic>,(1-4096)`]);
    }
    const [idxText, msgIdText, qosText, , topic, lengthOrPayload] = v;
    const client = this.#client(idxText);
    const qos = Number(qosText);
    const msgId = Number(msgIdText);
    if (!client || !topic || (qos !== 0 && qos !== 1) || !Number.isInteger(msgId))
      return this.#error(CME_INCORRECT_PARAMETERS);
    if (client.state !== 'connected' || !client.session) return this.#error(3);
    const session = client.session;
    const epoch = this.#epoch;
    const send = (payload: Buffer) => {
      void session.publish(topic, payload, qos, msgId, MQTT_PACKET_TIMEOUT_MS).then(async (r) => {
        await sleep(qos > 0 ? this.#env.latency.roundTrips(1) : 0);
        if (epoch !== this.#epoch) return;
        this.#port.urc(`+${command}: ${idxText},${msgId},${r.ok ? 0 : 2}`);
      });
    };
    // Inline payload: `…,"topic","payload"` (the Quectel SDKs' form); else a length and a prompt.
    if (q[5]) {
      this.#ok();
      return send(Buffer.from(lengthOrPayload ?? '', 'utf8'));
    }
    const length = Number(lengthOrPayload);
    if (!Number.isInteger(length) || length < 1 || length > 4096)
      return this.#error(CME_INCORRECT_PARAMETERS);
    this.#port.write('\r\n> ');
    this.#port.collect(length, MQTT_PACKET_TIMEOUT_MS, (payload, complete) => {
      if (epoch !== this.#epoch) return;
      if (!complete) return this.#port.respond([], 'ERROR');
      this.#ok();
      send(payload);
    });
  }

  #mqttDisconnect(form: string, v: string[]): void {
    if (form === 'test') return this.#ok(['+QMTDISC: (0-5)']);
    const client = this.#client(v[0]);
    if (client?.state !== 'connected' || !client.session) return this.#error(3);
    this.#ok();
    const session = client.session;
    client.session = null;
    client.state = 'idle';
    session.disconnect();
    this.#port.urc(`+QMTDISC: ${v[0]},0`);
  }

  #mqttClose(form: string, v: string[]): void {
    if (form === 'test') return this.#ok(['+QMTCLOSE: (0-5)']);
    const client = this.#client(v[0]);
    if (!client || client.state === 'idle' || client.state === 'opening') return this.#error(3);
    this.#ok();
    const session = client.session;
    client.session = null;
    client.state = 'idle';
    session?.destroy();
    this.#port.urc(`+QMTCLOSE: ${v[0]},0`);
  }

  // ---- SSL sockets (docs/002 §2.2.2–2.2.6) -----------------------------------------------------

  #sslOpen(form: string, v: string[]): void {
    if (form === 'test') {
      return this.#ok(['+QSSLOPEN: (1-15),(0-5),(0-11),<serveraddr>,<server_port>,(0-2)']);
    }
    const [pdpText, ctxText, idText, host, portText, modeText] = v;
    const pdp = Number(pdpText);
    const ctx = Number(ctxText);
    const id = Number(idText);
    const port = Number(portText);
    const mode = Number(modeText ?? 0);
    const valid =
      pdp >= 1 &&
      pdp <= 15 &&
      ctx >= 0 &&
      ctx < SSL_CONTEXT_COUNT &&
      id >= 0 &&
      id < SSL_CLIENTS &&
      Number.isInteger(port) &&
      port >= 0 &&
      port <= 65535 &&
      !!host &&
      [0, 1, 2].includes(mode);
    if (!valid) return this.#qiError(552);
    if (mode === 2) return this.#qiError(555); // transparent mode is not modelled
    if (this.#sockets.has(id)) return this.#qiError(563);
    this.#ok();
    if (!this.#pdpActive) return this.#sslOpenResult(id, 561);
    const socket: SslSocketState = { id, ctx, pdp, host, port, mode, state: 1, stream: null, buffer: [] };
    this.#sockets.set(id, socket);
    const epoch = this.#epoch;
    void dial(this.#env, host, port, (address) => this.#tlsRequest(ctx, address, host, port)).then((r) => {
      if (epoch !== this.#epoch || this.#sockets.get(id) !== socket) {
        if (r.ok) r.stream.destroy();
        return;
      }
      if (!r.ok) {
        this.#sockets.delete(id);
        return this.#sslOpenResult(
          id,
          r.stage === 'dns' ? 565 : r.stage === 'tcp' ? 566 : QSSLOPEN_TLS_FAILURE,
        );
      }
      socket.stream = r.stream;
      socket.state = 2;
      r.stream.on('data', (chunk: Buffer) => this.#sslIncoming(socket, chunk));
      r.stream.on('error', () => {});
      r.stream.on('close', () => {
        if (this.#sockets.get(id) !== socket || socket.state !== 2) return;
        socket.state = 4;
        this.#port.urc(`+QSSLURC: "closed",${id}`);
      });
      this.#sslOpenResult(id, 0);
    });
  }

  #sslOpenResult(id: number, err: number): void {
    this.#lastQiError = err;
    this.#port.urc(`+QSSLOPEN: ${id},${err}`);
  }

  #sslIncoming(socket: SslSocketState, chunk: Buffer): void {
    if (socket.mode === 1) {
      this.#port.write(`\r\n+QSSLURC: "recv",${socket.id},${chunk.length}\r\n`);
      this.#port.write(chunk);
      return;
    }
    const wasEmpty = socket.buffer.length === 0;
    socket.buffer.push(chunk);
    if (wasEmpty) this.#port.urc(`+QSSLURC: "recv",${socket.id}`);
  }

  #sslSocket(idText: string | undefined): SslSocketState | null {
    const id = Number(idText);
    return Number.isInteger(id) ? (this.#sockets.get(id) ?? null) : null;
  }

  #sslSend(form: string, v: string[]): void {
    if (form === 'test') return this.#ok(['+QSSLSEND: (0-11),(1-1460)']);
    const socket = this.#sslSocket(v[0]);
    const length = Number(v[1]);
    // Variable-length sending (Ctrl+Z) is not modelled: the fixed-length form is.
    if (socket?.state !== 2 || !socket.stream || !Number.isInteger(length) || length < 1 || length > 1460)
      return this.#qiError(552);
    const stream = socket.stream;
    this.#port.write('\r\n> ');
    const epoch = this.#epoch;
    this.#port.collect(length, MQTT_PACKET_TIMEOUT_MS, (data, complete) => {
      if (epoch !== this.#epoch) return;
      if (!complete || stream.destroyed) return this.#port.respond([], 'ERROR');
      stream.write(data);
      this.#port.respond([], 'SEND OK');
    });
  }

  #sslRecv(form: string, v: string[]): void {
    if (form === 'test') return this.#ok(['+QSSLRECV: (0-11),(0-1500)']);
    const socket = this.#sslSocket(v[0]);
    const want = Number(v[1] ?? 1500);
    if (!socket || !Number.isInteger(want) || want < 0 || want > 1500) return this.#qiError(552);
    const all = Buffer.concat(socket.buffer);
    const take = all.subarray(0, want);
    socket.buffer.length = 0;
    if (all.length > take.length) socket.buffer.push(Buffer.from(all.subarray(take.length)));
    this.#port.write(`\r\n+QSSLRECV: ${take.length}\r\n`);
    if (take.length > 0) this.#port.write(take);
    this.#port.respond([]);
  }

  #sslClose(form: string, v: string[]): void {
    if (form === 'test') return this.#ok(['+QSSLCLOSE: (0-11),(0-65535)']);
    const socket = this.#sslSocket(v[0]);
    if (!socket) return this.#qiError(552);
    this.#sockets.delete(socket.id);
    socket.stream?.destroy();
    this.#lastQiError = 0;
    this.#ok();
  }

  #sslState(form: string, v: string[]): void {
    if (form === 'test') return this.#ok();
    const line = (s: SslSocketState) =>
      `+QSSLSTATE: ${s.id},"SSLClient","${s.host}",${s.port},${40000 + s.id},${s.state},${s.pdp},${s.id},${s.mode},"uart1",${s.ctx}`;
    const only = form === 'write' ? this.#sslSocket(v[0]) : null;
    this.#ok(form === 'write' ? (only ? [line(only)] : []) : [...this.#sockets.values()].map(line));
  }

  /** Closes every session; `report` sends the URCs a module sends when the network drops them. */
  #dropSessions(report: boolean): void {
    for (const [i, client] of this.#mqtt.entries()) {
      const session = client.session;
      client.session = null;
      const wasUp = client.state !== 'idle';
      client.state = 'idle';
      session?.destroy();
      if (report && wasUp) this.#port.urc(`+QMTSTAT: ${i},1`);
    }
    for (const socket of this.#sockets.values()) {
      const wasUp = socket.state === 2;
      socket.state = 4;
      socket.stream?.destroy();
      if (report && wasUp) this.#port.urc(`+QSSLURC: "closed",${socket.id}`);
    }
    if (!report) this.#sockets.clear();
  }
}
