import type { Duplex } from 'node:stream';
import { anchorFileAsPem } from '../../../certs/pem.ts';
import { parseAtArgs } from '../at-args.ts';
import { AtPort, type Dialect } from '../at-port.ts';
import { DeviceClock } from '../clock.ts';
import type { CommonModemOptions, VirtualModemCore } from '../dialect.ts';
import { FaultPlan } from '../faults.ts';
import { type DeviceTimeReport, LatencyClock, sleep } from '../latency.ts';
import { MqttSession } from '../mqtt-session.ts';
import { dial, type ModemEnvironment, type TlsAttempt, type TlsRequestSeen } from '../session.ts';
import { TlsSessionCache } from '../tls-sessions.ts';
import {
  contextLine,
  isSslKey,
  newSslContexts,
  SSL_CONTEXT_COUNT,
  SSL_TEST_LINES,
  type SslContext,
  validSslValue,
} from './ssl-contexts.ts';
import { simcomTlsRequest } from './tls-request.ts';

export interface VirtualSimcomOptions extends CommonModemOptions {
  /** Certificates in the module before the harness arrives (name → content). */
  readonly files?: Readonly<Record<string, Buffer | string>>;
  readonly imei?: string;
  /** How long AT+CRESET keeps the module silent before its banner. */
  readonly bootMs?: number;
  /**
   * `+CMQTTSTART: 0` before OK, as SIM7600 transcripts show it (A76xx transcripts show OK first);
   * a driver must take either.
   */
  readonly resultBeforeOk?: boolean;
}

const MQTT_CLIENTS = 2;
const MQTT_PACKET_TIMEOUT_MS = 5_000;
const DATA_TIMEOUT_MS = 5_000;

/**
 * +CMQTTCONNECT results, as the A76XX MQTT error table numbers them. 34 ("open SSL session failed")
 * is what a public transcript shows for a refused server certificate; 26 + CONNACK return code for
 * a broker's refusal.
 */
const CONNECT_RESULT = {
  ok: 0,
  socketConnect: 3,
  noConnection: 11,
  timeout: 17,
  dns: 25,
  closedByServer: 26,
  tls: 34,
} as const;

interface MqttClient {
  acquired: boolean;
  clientId: string;
  /** 1: MQTT over SSL/TLS; 0: plain TCP. */
  serverType: number;
  sslContext: number;
  state: 'idle' | 'connecting' | 'connected';
  session: MqttSession | null;
  topic: Buffer | null;
  payload: Buffer | null;
}

const newClient = (): MqttClient => ({
  acquired: false,
  clientId: '',
  serverType: 0,
  sslContext: 0,
  state: 'idle',
  session: null,
  topic: null,
  payload: null,
});

/**
 * A SIMCom A76xx module as its AT port shows it: a certificate store (CCERTDOWN/LIST/DELE), ten SSL
 * contexts (CSSLCFG), the MQTT(S) service with two clients (CMQTT*), with real TCP, TLS and MQTT
 * behind them. Built from the vendor's command set and public transcripts, not from the driver.
 */
export class VirtualSimcomModem implements Dialect, VirtualModemCore {
  readonly #port: AtPort;
  readonly #env: ModemEnvironment;
  readonly #faults: FaultPlan;
  readonly #clock: DeviceClock;
  readonly #certs = new Map<string, Buffer>();
  readonly #imei: string;
  readonly #bootMs: number;
  readonly #attachMs: number;
  readonly #resultBeforeOk: boolean;
  readonly model: string;
  readonly firmware: string;
  #ssl: SslContext[] = newSslContexts();
  #mqtt: MqttClient[] = Array.from({ length: MQTT_CLIENTS }, newClient);
  #serviceStarted = false;
  #pdpActive = true;
  #registeredAt = 0;
  #cmee = 1;
  /** Bumped on every restart: work started before it must not report afterwards. */
  #epoch = 0;

  constructor(io: Duplex, options: VirtualSimcomOptions) {
    const latency = new LatencyClock(options.latency);
    this.#faults = new FaultPlan(options.faults);
    this.#env = {
      network: options.network,
      latency,
      faults: this.#faults,
      personality: options.personality,
      engine: options.engine.engine,
      engineNote: () => options.engine.note,
      tlsLog: [],
      tlsRequests: [],
      sessions: new TlsSessionCache(options.sessionCache ?? true),
    };
    this.#port = new AtPort(io, latency, this.#faults);
    io.once('close', () => this.shutdown());
    this.model = options.model ?? 'A7670E-LASE';
    this.firmware = options.firmware ?? 'A011B07A7670M7';
    this.#imei = options.imei ?? '862205050123456';
    this.#bootMs = options.bootMs ?? 50;
    this.#attachMs = options.attachMs ?? 0;
    this.#resultBeforeOk = options.resultBeforeOk ?? false;
    this.#clock = new DeviceClock(options.clock ?? null);
    for (const [name, content] of Object.entries(options.files ?? {}))
      this.#certs.set(name, Buffer.from(content));
    this.#port.attach(this);
    this.#port.urc('*ATREADY: 1');
  }

  /** Certificates as the module holds them now; for tests that check nothing foreign was touched. */
  files(): ReadonlyMap<string, Buffer> {
    return new Map(this.#certs);
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
    this.#dropSessions(false);
    this.#env.sessions.clear();
  }

  // ---- Dialect ---------------------------------------------------------------------------------

  silentReset(): void {
    this.#env.sessions.clear();
    this.#ssl = newSslContexts();
  }

  reboot(reason: 'command' | 'fault'): void {
    this.#epoch++;
    this.#dropSessions(false);
    this.#env.sessions.clear();
    this.#ssl = newSslContexts();
    this.#mqtt = Array.from({ length: MQTT_CLIENTS }, newClient);
    this.#serviceStarted = false;
    this.#cmee = 1;
    this.#port.goOffline(this.#bootMs);
    this.#port.echo = true;
    this.#registeredAt = Number.POSITIVE_INFINITY;
    const epoch = this.#epoch;
    setTimeout(() => {
      if (this.#epoch !== epoch || this.#port.closed) return;
      this.#pdpActive = true;
      this.#registeredAt = Date.now() + this.#attachMs;
      this.#port.goOnline();
      this.#port.urc('*ATREADY: 1');
      this.#port.urc('+CPIN: READY');
      this.#port.urc('SMS DONE');
      this.#port.urc('PB DONE');
    }, this.#bootMs);
    if (reason === 'fault') this.#pdpActive = false;
  }

  pdpDeactivate(): void {
    if (!this.#pdpActive) return;
    this.#pdpActive = false;
    this.#dropSessions(true);
    if (this.#serviceStarted) this.#port.urc('+CMQTTNONET');
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
    if (upper === 'I') return this.#ok(this.#info());
    if (upper === '+SIMCOMATI') return this.#ok([...this.#info(), 'QCN: ', 'MEID: ', '+GCAP: +CGSM']);
    if (upper === '+CGMR') return this.#ok([`+CGMR: ${this.firmware}`]);
    if (upper === '+CGMI') return this.#ok(['SIMCOM INCORPORATED']);
    if (upper === '+CGMM') return this.#ok([this.model]);
    if (upper === '+CGSN') return this.#ok([this.#imei]);
    if (upper === '+CCERTLIST') return this.#ok([...this.#certs.keys()].map((n) => `+CCERTLIST: "${n}"`));
    if (upper === '+CRESET') {
      this.#ok();
      return this.reboot('command');
    }
    if (upper === '+CMQTTSTART') return this.#serviceStart();
    if (upper === '+CMQTTSTOP') return this.#serviceStop();
    const cmd = /^(\+[A-Z]+)(=\?|\?|=(.*))?$/i.exec(body);
    if (!cmd) return this.#port.respond([], 'ERROR');
    const name = (cmd[1] ?? '').toUpperCase();
    const form: Form = cmd[2] === '=?' ? 'test' : cmd[2] === '?' ? 'read' : cmd[2] ? 'write' : 'exec';
    const args = parseAtArgs(cmd[3] ?? '');
    const handler = this.#handlers[name];
    if (!handler) return this.#port.respond([], 'ERROR');
    handler(form, args.values, args.quoted);
  }

  // ---- answers ---------------------------------------------------------------------------------

  #info(): string[] {
    return [
      'Manufacturer: SIMCOM INCORPORATED',
      `Model: ${this.model}`,
      `Revision: ${this.firmware}`,
      `IMEI: ${this.#imei}`,
    ];
  }

  #ok(lines: readonly string[] = []): void {
    this.#port.respond(lines);
  }

  #error(cme?: number): void {
    if (cme === undefined || this.#cmee === 0) return this.#port.respond([], 'ERROR');
    this.#port.respond([], `+CME ERROR: ${cme}`);
  }

  readonly #handlers: Record<string, (form: Form, values: string[], quoted: boolean[]) => void> = {
    '+CMEE': (form, v) => {
      if (form === 'test') return this.#ok(['+CMEE: (0-2)']);
      if (form === 'read') return this.#ok([`+CMEE: ${this.#cmee}`]);
      const n = Number(v[0]);
      if (![0, 1, 2].includes(n)) return this.#error(50);
      this.#cmee = n;
      this.#ok();
    },
    '+CPIN': (form) => (form === 'read' ? this.#ok(['+CPIN: READY']) : this.#error(3)),
    '+CFUN': (form) => (form === 'read' ? this.#ok(['+CFUN: 1']) : this.#ok()),
    '+CCLK': (form, v, q) => {
      if (form === 'read') return this.#ok([`+CCLK: "${this.#clock.format()}"`]);
      if (form === 'test') return this.#ok();
      const parsed = form === 'write' && q[0] ? DeviceClock.parse(v[0] ?? '') : null;
      if (!parsed) return this.#error(50);
      this.#clock.set(parsed.at, parsed.zoneQuarters);
      this.#ok();
    },
    '+CEREG': (form) => (form === 'read' ? this.#ok([`+CEREG: 0,${this.#stat()}`]) : this.#ok()),
    '+CREG': (form) => (form === 'read' ? this.#ok([`+CREG: 0,${this.#stat()}`]) : this.#ok()),
    '+CGACT': (form) => (form === 'read' ? this.#ok([`+CGACT: 1,${this.#pdpActive ? 1 : 0}`]) : this.#ok()),
    '+CCERTDOWN': (form, v, q) => this.#certDownload(form, v, q),
    '+CCERTDELE': (form, v) => {
      if (form === 'test') return this.#ok();
      if (form !== 'write' || !this.#certs.delete(v[0] ?? '')) return this.#port.respond([], 'ERROR');
      this.#ok();
    },
    '+CSSLCFG': (form, v, q) => this.#sslConfig(form, v, q),
    '+CMQTTACCQ': (form, v, q) => this.#acquire(form, v, q),
    '+CMQTTREL': (form, v) => {
      const client = this.#client(v[0]);
      if (form !== 'write' || !client?.acquired || client.state !== 'idle')
        return this.#port.respond([], 'ERROR');
      this.#mqtt[Number(v[0])] = newClient();
      this.#ok();
    },
    '+CMQTTSSLCFG': (form, v) => {
      if (form === 'test')
        return this.#ok([`+CMQTTSSLCFG: (0-${MQTT_CLIENTS - 1}),(0-${SSL_CONTEXT_COUNT - 1})`]);
      if (form === 'read') return this.#ok(this.#mqtt.map((c, i) => `+CMQTTSSLCFG: ${i},${c.sslContext}`));
      const client = this.#client(v[0]);
      const ctx = Number(v[1]);
      if (!client || !Number.isInteger(ctx) || ctx < 0 || ctx >= SSL_CONTEXT_COUNT)
        return this.#port.respond([], 'ERROR');
      client.sslContext = ctx;
      this.#ok();
    },
    '+CMQTTCONNECT': (form, v) => this.#connect(form, v),
    '+CMQTTTOPIC': (form, v) => this.#collectInto(form, v, 'topic', 1024),
    '+CMQTTPAYLOAD': (form, v) => this.#collectInto(form, v, 'payload', 10240),
    '+CMQTTPUB': (form, v) => this.#publish(form, v),
    '+CMQTTDISC': (form, v) => this.#disconnect(form, v),
  };

  /** 27.007 <stat>: 1 registered (home), 2 searching. */
  #stat(): 1 | 2 {
    return this.#pdpActive && Date.now() >= this.#registeredAt ? 1 : 2;
  }

  #certDownload(form: Form, v: string[], q: boolean[]): void {
    if (form === 'test') return this.#ok(['+CCERTDOWN: (5-108),(1-10240)']);
    const name = v[0] ?? '';
    const size = Number(v[1]);
    const validName = q[0] && /^.{5,108}\.(pem|der)$/.test(name);
    if (form !== 'write' || !validName || !Number.isInteger(size) || size < 1 || size > 10240)
      return this.#port.respond([], 'ERROR');
    this.#port.write('\r\n>');
    const epoch = this.#epoch;
    this.#port.collect(size, DATA_TIMEOUT_MS, (data, complete) => {
      if (epoch !== this.#epoch) return;
      // A torn download stores nothing.
      if (!complete) return this.#port.respond([], 'ERROR');
      this.#certs.set(name, data);
      this.#ok();
    });
  }

  #sslConfig(form: Form, v: string[], q: boolean[]): void {
    if (form === 'test') return this.#ok(SSL_TEST_LINES);
    if (form !== 'write') return this.#port.respond([], 'ERROR');
    // `AT+CSSLCFG=<ctx>` reads a whole context.
    if (v.length === 1 && !q[0]) {
      const ctx = Number(v[0]);
      if (!Number.isInteger(ctx) || ctx < 0 || ctx >= SSL_CONTEXT_COUNT)
        return this.#port.respond([], 'ERROR');
      return this.#ok([contextLine(ctx, this.#ssl[ctx] as SslContext)]);
    }
    const [key = '', ctxText, value] = v;
    const ctx = Number(ctxText);
    if (
      !isSslKey(key) ||
      !Number.isInteger(ctx) ||
      ctx < 0 ||
      ctx >= SSL_CONTEXT_COUNT ||
      value === undefined
    )
      return this.#port.respond([], 'ERROR');
    const stored = validSslValue(key, value, q[2] ?? false);
    if (stored === null) return this.#port.respond([], 'ERROR');
    (this.#ssl[ctx] as SslContext)[key] = stored;
    this.#ok();
  }

  // ---- MQTT ------------------------------------------------------------------------------------

  #client(text: string | undefined): MqttClient | null {
    const idx = Number(text);
    return text !== undefined && Number.isInteger(idx) && idx >= 0 && idx < MQTT_CLIENTS
      ? (this.#mqtt[idx] ?? null)
      : null;
  }

  /** A service already started answers ERROR (as public driver code reports it). */
  #serviceStart(): void {
    if (this.#serviceStarted) return this.#port.respond([], 'ERROR');
    this.#serviceStarted = true;
    if (this.#resultBeforeOk) return this.#ok(['+CMQTTSTART: 0']);
    this.#ok();
    this.#port.urc('+CMQTTSTART: 0');
  }

  /** 21: a client is still acquired. */
  #serviceStop(): void {
    if (!this.#serviceStarted) return this.#port.respond([], 'ERROR');
    this.#ok();
    if (this.#mqtt.some((c) => c.acquired)) return this.#port.urc('+CMQTTSTOP: 21');
    this.#serviceStarted = false;
    this.#port.urc('+CMQTTSTOP: 0');
  }

  #acquire(form: Form, v: string[], q: boolean[]): void {
    if (form === 'test') return this.#ok([`+CMQTTACCQ: (0-${MQTT_CLIENTS - 1}),(1-128),(0-1)`]);
    if (form === 'read')
      return this.#ok(this.#mqtt.map((c, i) => `+CMQTTACCQ: ${i},"${c.clientId}",${c.serverType}`));
    const client = this.#client(v[0]);
    const id = v[1] ?? '';
    const type = Number(v[2] ?? 0);
    if (
      !this.#serviceStarted ||
      !client ||
      client.acquired ||
      !q[1] ||
      id.length < 1 ||
      id.length > 128 ||
      ![0, 1].includes(type)
    )
      return this.#port.respond([], 'ERROR');
    client.acquired = true;
    client.clientId = id;
    client.serverType = type;
    this.#ok();
  }

  #connect(form: Form, v: string[]): void {
    if (form === 'test') return this.#ok([`+CMQTTCONNECT: (0-${MQTT_CLIENTS - 1}),(9-256),(1-64800),(0-1)`]);
    if (form === 'read')
      return this.#ok(
        this.#mqtt.flatMap((c, i) =>
          c.state === 'connected' ? [`+CMQTTCONNECT: ${i},"${c.clientId}"`] : [],
        ),
      );
    const idxText = v[0];
    const client = this.#client(idxText);
    const server = /^tcp:\/\/(.+):(\d{1,5})$/.exec(v[1] ?? '');
    if (!client?.acquired || client.state !== 'idle' || !server) return this.#port.respond([], 'ERROR');
    const host = server[1] as string;
    const port = Number(server[2]);
    this.#ok();
    client.state = 'connecting';
    const epoch = this.#epoch;
    void this.#open(client, host, port).then((code) => {
      if (epoch !== this.#epoch) return;
      if (code !== CONNECT_RESULT.ok) {
        client.session?.destroy();
        client.session = null;
        client.state = 'idle';
      }
      this.#port.urc(`+CMQTTCONNECT: ${idxText},${code}`);
    });
  }

  async #open(client: MqttClient, host: string, port: number): Promise<number> {
    if (Date.now() < this.#registeredAt || !this.#pdpActive) return CONNECT_RESULT.noConnection;
    const r = await dial(this.#env, host, port, (address) => {
      if (client.serverType !== 1) return null;
      const ctx = this.#ssl[client.sslContext] as SslContext;
      // The stack's loader reads PEM or one DER certificate (mbedTLS x509_crt_parse).
      const read = (name: string) => {
        const file = name ? this.#certs.get(name) : undefined;
        return file ? anchorFileAsPem(file) : null;
      };
      return simcomTlsRequest({
        context: ctx,
        personality: this.#env.personality,
        cacertPem: read(ctx.cacert),
        clientcertPem: read(ctx.clientcert),
        clientkeyPem: read(ctx.clientkey),
        address,
        port,
        dialledHost: host,
        deviceTime: this.#clock.now(),
      });
    });
    if (!r.ok) {
      if (r.stage === 'dns') return CONNECT_RESULT.dns;
      if (r.stage === 'tcp') return CONNECT_RESULT.socketConnect;
      return CONNECT_RESULT.tls;
    }
    const session = new MqttSession(r.stream, 4, this.#env.latency.closeLag());
    client.session = session;
    const connack = await session.connect(client.clientId, MQTT_PACKET_TIMEOUT_MS);
    await sleep(this.#env.latency.roundTrips(1));
    if (!connack.ok)
      return connack.reason === 'timeout' ? CONNECT_RESULT.timeout : CONNECT_RESULT.closedByServer;
    if (connack.value !== 0) return CONNECT_RESULT.closedByServer + connack.value;
    client.state = 'connected';
    session.onClose(() => {
      if (client.session !== session) return;
      client.session = null;
      client.state = 'idle';
      this.#port.urc(`+CMQTTCONNLOST: ${this.#mqtt.indexOf(client)},1`);
    });
    return CONNECT_RESULT.ok;
  }

  /** CMQTTTOPIC / CMQTTPAYLOAD: a length, the `>` prompt, exactly that many bytes, OK. */
  #collectInto(form: Form, v: string[], field: 'topic' | 'payload', max: number): void {
    if (form === 'test')
      return this.#ok([`+CMQTT${field.toUpperCase()}: (0-${MQTT_CLIENTS - 1}),(1-${max})`]);
    const client = this.#client(v[0]);
    const length = Number(v[1]);
    if (form !== 'write' || !client?.acquired || !Number.isInteger(length) || length < 1 || length > max)
      return this.#port.respond([], 'ERROR');
    this.#port.write('\r\n>');
    const epoch = this.#epoch;
    this.#port.collect(length, DATA_TIMEOUT_MS, (data, complete) => {
      if (epoch !== this.#epoch) return;
      if (!complete) return this.#port.respond([], 'ERROR');
      client[field] = data;
      this.#ok();
    });
  }

  #publish(form: Form, v: string[]): void {
    if (form === 'test') return this.#ok([`+CMQTTPUB: (0-${MQTT_CLIENTS - 1}),(0-2),(1-180),(0-1),(0-1)`]);
    const idxText = v[0];
    const client = this.#client(idxText);
    const qos = Number(v[1]);
    if (form !== 'write' || !client?.acquired || ![0, 1].includes(qos) || !client.topic || !client.payload)
      return this.#port.respond([], 'ERROR');
    this.#ok();
    const session = client.session;
    if (client.state !== 'connected' || !session)
      return this.#port.urc(`+CMQTTPUB: ${idxText},${CONNECT_RESULT.noConnection}`);
    const epoch = this.#epoch;
    void session
      .publish(client.topic.toString('utf8'), client.payload, qos as 0 | 1, 1, MQTT_PACKET_TIMEOUT_MS)
      .then(async (r) => {
        await sleep(qos > 0 ? this.#env.latency.roundTrips(1) : 0);
        if (epoch !== this.#epoch) return;
        this.#port.urc(`+CMQTTPUB: ${idxText},${r.ok ? 0 : CONNECT_RESULT.timeout}`);
      });
  }

  #disconnect(form: Form, v: string[]): void {
    if (form === 'test') return this.#ok([`+CMQTTDISC: (0-${MQTT_CLIENTS - 1}),(0-180)`]);
    if (form === 'read')
      return this.#ok(this.#mqtt.map((c, i) => `+CMQTTDISC: ${i},${c.state === 'connected' ? 0 : 1}`));
    const idxText = v[0];
    const client = this.#client(idxText);
    if (!client) return this.#port.respond([], 'ERROR');
    this.#ok();
    const session = client.session;
    if (client.state !== 'connected' || !session)
      return this.#port.urc(`+CMQTTDISC: ${idxText},${CONNECT_RESULT.noConnection}`);
    client.session = null;
    client.state = 'idle';
    session.disconnect();
    this.#port.urc(`+CMQTTDISC: ${idxText},0`);
  }

  /** Closes every session; `report` sends the URCs a module sends when the network drops them. */
  #dropSessions(report: boolean): void {
    for (const [i, client] of this.#mqtt.entries()) {
      const session = client.session;
      const wasUp = client.state === 'connected';
      client.session = null;
      client.state = 'idle';
      session?.destroy();
      if (report && wasUp) this.#port.urc(`+CMQTTCONNLOST: ${i},3`);
    }
  }
}

type Form = 'test' | 'read' | 'write' | 'exec';
