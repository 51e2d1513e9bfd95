import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { qfuplChecksum } from '../../drivers/quectel/checksum.ts';
import { parseAtArgs } from '../at-args.ts';
import { MqttSession } from '../mqtt-session.ts';
import { resolveHost, type VirtualNetwork } from '../network.ts';
import type { TrustPersonality } from '../personality.ts';
import { openTls } from '../tls-client.ts';
import {
  formatSslValue,
  isSslKey,
  newSslContexts,
  SSL_CONTEXT_COUNT,
  type SslContext,
  validateSslValue,
} from './ssl-contexts.ts';

export interface VirtualQuectelOptions {
  readonly manufacturer?: string;
  readonly model?: string;
  readonly firmware?: string;
  readonly imei?: string;
  readonly personality: TrustPersonality;
  readonly network: VirtualNetwork;
  /** Files on the module before the harness arrives (name → content). */
  readonly files?: Readonly<Record<string, Buffer | string>>;
}

const MQTT_CLIENTS = 6;
const UFS_CAPACITY = 2 * 1024 * 1024;
const MQTT_PACKET_TIMEOUT_MS = 5_000;

/** CME error numbers the file commands use. */
const CME = { invalidParam: 50, fileExists: 407, noSpace: 406, fileNotFound: 405, timeout: 409 } as const;

interface MqttClientState {
  sslEnabled: boolean;
  sslContext: number;
  version: 3 | 4;
  state: 'idle' | 'opening' | 'open' | 'connected';
  session: MqttSession | null;
}

type DataSink = {
  readonly remaining: number;
  readonly chunks: Buffer[];
  readonly done: (data: Buffer, complete: boolean) => void;
  timer: NodeJS.Timeout;
};

const stripUfs = (name: string) => name.replace(/^UFS:/i, '');

/**
 * A Quectel EC200x module as seen through its AT port: UFS files, SSL contexts and the MQTT
 * client, with real TCP, TLS and MQTT behind QMTOPEN/QMTCONN/QMTPUBEX.
 */
export class VirtualQuectelModem {
  readonly #io: Duplex;
  readonly #opts: Required<Omit<VirtualQuectelOptions, 'files'>>;
  readonly #files = new Map<string, Buffer>();
  readonly #ssl: SslContext[] = newSslContexts();
  readonly #mqtt: MqttClientState[];
  #echo = true;
  #cmee = 1;
  #line = '';
  #sink: (DataSink & { remaining: number }) | null = null;

  constructor(io: Duplex, options: VirtualQuectelOptions) {
    this.#io = io;
    this.#opts = {
      manufacturer: 'Quectel',
      model: 'EC200U',
      firmware: 'EC200UCNAAR03A03M08',
      imei: '866123456789012',
      ...options,
    };
    for (const [name, content] of Object.entries(options.files ?? {})) {
      this.#files.set(stripUfs(name), Buffer.from(content));
    }
    this.#mqtt = Array.from({ length: MQTT_CLIENTS }, () => ({
      sslEnabled: false,
      sslContext: 0,
      version: 4 as const,
      state: 'idle' as const,
      session: null,
    }));
    io.on('data', (chunk: Buffer) => this.#onData(chunk));
    io.on('error', () => {});
    this.#urc('RDY');
  }

  /** Files as the module holds them now; for tests that check nothing foreign was touched. */
  files(): ReadonlyMap<string, Buffer> {
    return this.#files;
  }

  #write(text: string): void {
    if (!this.#io.destroyed) this.#io.write(text);
  }

  #urc(line: string): void {
    this.#write(`\r\n${line}\r\n`);
  }

  #respond(lines: readonly string[], final = 'OK'): void {
    for (const l of lines) this.#write(`\r\n${l}\r\n`);
    this.#write(`\r\n${final}\r\n`);
  }

  #error(cme?: number): void {
    this.#respond([], cme === undefined || this.#cmee === 0 ? 'ERROR' : `+CME ERROR: ${cme}`);
  }

  #onData(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      const sink = this.#sink;
      if (sink) {
        const take = chunk.subarray(offset, offset + sink.remaining);
        sink.chunks.push(Buffer.from(take));
        sink.remaining -= take.length;
        offset += take.length;
        if (sink.remaining === 0) {
          clearTimeout(sink.timer);
          this.#sink = null;
          sink.done(Buffer.concat(sink.chunks), true);
        }
        continue;
      }
      const c = String.fromCharCode(chunk[offset] ?? 0);
      offset++;
      if (c === '\n') continue;
      if (c !== '\r') {
        this.#line += c;
        continue;
      }
      const line = this.#line;
      this.#line = '';
      if (this.#echo) this.#write(`${line}\r`);
      if (line.trim() !== '') this.#dispatch(line.trim());
    }
  }

  /** Collects exactly `size` raw bytes after a prompt, or what came before the timeout. */
  #collect(size: number, timeoutMs: number, done: DataSink['done']): void {
    const sink: DataSink & { remaining: number } = {
      remaining: size,
      chunks: [],
      done,
      timer: setTimeout(() => {
        this.#sink = null;
        done(Buffer.concat(sink.chunks), false);
      }, timeoutMs),
    };
    this.#sink = sink;
  }

  #dispatch(line: string): void {
    const m = /^AT(.*)$/i.exec(line);
    if (!m) return this.#error();
    const body = m[1] ?? '';
    const upper = body.toUpperCase();
    if (upper === '') return this.#respond([]);
    if (upper === 'E0' || upper === 'E1') {
      this.#echo = upper === 'E1';
      return this.#respond([]);
    }
    if (upper === 'I')
      return this.#respond([this.#opts.manufacturer, this.#opts.model, `Revision: ${this.#opts.firmware}`]);
    if (upper === '+GMR') return this.#respond([this.#opts.firmware]);
    if (upper === '+QGMR') return this.#respond([`${this.#opts.firmware}_01.001.01.001`]);
    if (upper === '+CGSN') return this.#respond([this.#opts.imei]);
    const cmd = /^(\+[A-Z]+)(=\?|\?|=(.*))?$/i.exec(body);
    if (!cmd) return this.#error();
    const name = (cmd[1] ?? '').toUpperCase();
    const args = parseAtArgs(cmd[3] ?? '');
    switch (name) {
      case '+CMEE':
        return this.#setCmee(args.values);
      case '+QFLST':
        return this.#listFiles();
      case '+QFUPL':
        return this.#upload(args.values);
      case '+QFDEL':
        return this.#delete(args.values);
      case '+QSSLCFG':
        return this.#sslConfig(args.values, args.quoted);
      case '+QMTCFG':
        return this.#mqttConfig(args.values);
      case '+QMTOPEN':
        return this.#mqttOpen(args.values);
      case '+QMTCONN':
        return this.#mqttConnect(args.values);
      case '+QMTPUBEX':
        return this.#mqttPublish(args.values);
      case '+QMTDISC':
        return this.#mqttDisconnect(args.values);
      case '+QMTCLOSE':
        return this.#mqttClose(args.values);
      default:
        return this.#error();
    }
  }

  #setCmee(values: string[]): void {
    const n = Number(values[0]);
    if (![0, 1, 2].includes(n)) return this.#error();
    this.#cmee = n;
    this.#respond([]);
  }

  #listFiles(): void {
    this.#respond([...this.#files].map(([name, data]) => `+QFLST: "UFS:${name}",${data.length}`));
  }

  #upload(values: string[]): void {
    const name = stripUfs(values[0] ?? '');
    const size = Number(values[1] ?? 10240);
    const timeoutS = Number(values[2] ?? 5);
    if (name === '' || name.length > 80 || !Number.isInteger(size) || size < 1)
      return this.#error(CME.invalidParam);
    if (this.#files.has(name)) return this.#error(CME.fileExists);
    const used = [...this.#files.values()].reduce((n, b) => n + b.length, 0);
    if (used + size > UFS_CAPACITY) return this.#error(CME.noSpace);
    this.#respond([], 'CONNECT');
    this.#collect(size, timeoutS * 1000, (data, complete) => {
      if (!complete) return this.#error(CME.timeout);
      this.#files.set(name, data);
      this.#respond([`+QFUPL: ${data.length},${qfuplChecksum(data)}`]);
    });
  }

  #delete(values: string[]): void {
    const name = stripUfs(values[0] ?? '');
    if (name === '*') {
      this.#files.clear();
      return this.#respond([]);
    }
    if (!this.#files.delete(name)) return this.#error(CME.fileNotFound);
    this.#respond([]);
  }

  #sslConfig(values: string[], quoted: boolean[]): void {
    const [key = '', ctxText, value] = values;
    const ctx = Number(ctxText);
    if (!isSslKey(key) || !Number.isInteger(ctx) || ctx < 0 || ctx >= SSL_CONTEXT_COUNT) return this.#error();
    const context = this.#ssl[ctx] as SslContext;
    if (value === undefined) return this.#respond([formatSslValue(key, ctx, context[key])]);
    const stored = validateSslValue(key, value, quoted[2] ?? false);
    if (stored === null) return this.#error();
    context[key] = stored;
    this.#respond([]);
  }

  #client(text: string | undefined): MqttClientState | null {
    const idx = Number(text);
    return Number.isInteger(idx) && idx >= 0 && idx < MQTT_CLIENTS ? (this.#mqtt[idx] ?? null) : null;
  }

  #mqttConfig(values: string[]): void {
    const [key, idxText, ...rest] = values;
    const client = this.#client(idxText);
    if (!client) return this.#error();
    if (key === 'ssl') {
      if (rest.length === 0) {
        return this.#respond([`+QMTCFG: "ssl",${idxText},${client.sslEnabled ? 1 : 0},${client.sslContext}`]);
      }
      const enable = Number(rest[0]);
      const ctx = Number(rest[1] ?? client.sslContext);
      if (![0, 1].includes(enable) || !Number.isInteger(ctx) || ctx < 0 || ctx >= SSL_CONTEXT_COUNT)
        return this.#error();
      client.sslEnabled = enable === 1;
      client.sslContext = ctx;
      return this.#respond([]);
    }
    if (key === 'version') {
      if (rest.length === 0) return this.#respond([`+QMTCFG: "version",${idxText},${client.version}`]);
      const v = Number(rest[0]);
      if (v !== 3 && v !== 4) return this.#error();
      client.version = v;
      return this.#respond([]);
    }
    this.#error();
  }

  #mqttOpen(values: string[]): void {
    const [idxText, host, portText] = values;
    const client = this.#client(idxText);
    const port = Number(portText);
    if (!client || !host || !Number.isInteger(port) || port < 1 || port > 65535) return this.#error();
    this.#respond([]);
    if (client.state !== 'idle') return this.#urc(`+QMTOPEN: ${idxText},2`);
    client.state = 'opening';
    void this.#openConnection(client, host, port).then((code) => {
      if (code !== 0) client.state = 'idle';
      this.#urc(`+QMTOPEN: ${idxText},${code}`);
    });
  }

  /** TCP, then TLS when the client has SSL on; returns the +QMTOPEN result. */
  async #openConnection(client: MqttClientState, host: string, port: number): Promise<number> {
    const resolved = resolveHost(this.#opts.network, host);
    if (!resolved.ok) return 4;
    if (!client.sslEnabled) {
      const socket = await new Promise<Duplex | null>((resolve) => {
        const s = tcpConnect({ host: resolved.address, port }, () => resolve(s));
        s.once('error', () => resolve(null));
      });
      if (!socket) return 5;
      this.#attach(client, socket);
      return 0;
    }
    const ctx = this.#ssl[client.sslContext] as SslContext;
    const caFile = this.#files.get(stripUfs(ctx.cacert));
    const tls = await openTls({
      address: resolved.address,
      port,
      dialledHost: host,
      caPem: caFile ? caFile.toString('latin1') : null,
      seclevel: Number(ctx.seclevel),
      sni: ctx.sni === '1',
      sslversion: Number(ctx.sslversion),
      negotiateTimeoutMs: Number(ctx.negotiatetime) * 1000,
      personality: this.#opts.personality,
    });
    if (!tls.ok) return this.#opts.personality.tlsFailureOpenCode;
    this.#attach(client, tls.socket);
    return 0;
  }

  #attach(client: MqttClientState, socket: Duplex): void {
    const session = new MqttSession(socket, client.version);
    client.session = session;
    client.state = 'open';
    session.onClose(() => {
      if (client.session !== session) return;
      client.session = null;
      client.state = 'idle';
      this.#urc(`+QMTSTAT: ${this.#mqtt.indexOf(client)},1`);
    });
  }

  #mqttConnect(values: string[]): void {
    const [idxText, clientId] = values;
    const client = this.#client(idxText);
    if (!client || !clientId) return this.#error();
    if (client.state !== 'open' || !client.session) return this.#error();
    this.#respond([]);
    void client.session.connect(clientId, MQTT_PACKET_TIMEOUT_MS).then((r) => {
      if (r.ok && r.value === 0) client.state = 'connected';
      this.#urc(r.ok ? `+QMTCONN: ${idxText},0,${r.value}` : `+QMTCONN: ${idxText},2`);
    });
  }

  #mqttPublish(values: string[]): void {
    const [idxText, msgIdText, qosText, , topic, lengthText] = values;
    const client = this.#client(idxText);
    const qos = Number(qosText);
    const length = Number(lengthText);
    const msgId = Number(msgIdText);
    if (!client || !topic || (qos !== 0 && qos !== 1) || !Number.isInteger(length) || length < 1)
      return this.#error();
    if (client.state !== 'connected' || !client.session) return this.#error();
    const session = client.session;
    this.#write('\r\n> ');
    this.#collect(length, MQTT_PACKET_TIMEOUT_MS, (payload, complete) => {
      if (!complete) return this.#error();
      this.#respond([]);
      void session.publish(topic, payload, qos, msgId, MQTT_PACKET_TIMEOUT_MS).then((r) => {
        this.#urc(`+QMTPUBEX: ${idxText},${msgId},${r.ok ? 0 : 2}`);
      });
    });
  }

  #mqttDisconnect(values: string[]): void {
    const client = this.#client(values[0]);
    if (client?.state !== 'connected' || !client.session) return this.#error();
    this.#respond([]);
    const session = client.session;
    client.session = null;
    client.state = 'idle';
    session.disconnect();
    this.#urc(`+QMTDISC: ${values[0]},0`);
  }

  #mqttClose(values: string[]): void {
    const client = this.#client(values[0]);
    if (!client || client.state === 'idle' || client.state === 'opening') return this.#error();
    this.#respond([]);
    const session = client.session;
    client.session = null;
    client.state = 'idle';
    session?.destroy();
    this.#urc(`+QMTCLOSE: ${values[0]},0`);
  }
}
