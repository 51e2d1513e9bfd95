import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { parseAtArgs } from '../../virtual-modem/at-args.ts';

/**
 * A scripted nRF9160 + Serial LTE Modem for driver tests, built from the documented dialect
 * (MQTT_AT_commands.rst, SOCKET_AT_commands.rst, AT%CMNG): credentials only writable outside
 * CFUN 1/2/21 (+CME ERROR: 518), 519 on an existing one, 513 when absent; #XMQTTCON runs the
 * "handshake" inside the command (ERROR on failure) and reports CONNACK as #XMQTTEVT: 0,<r>.
 * It does no TLS: whether a connection is accepted is the test's `accepts` function.
 */
export interface ScriptedSlmOptions {
  /** Credentials on the modem before the harness arrives: `${secTag},${type}` → content. */
  readonly credentials?: Readonly<Record<string, string>>;
  readonly cfun?: number;
  /** Whether a TLS connection to `host` succeeds with the root CA stored under `secTag` (null: none). */
  readonly accepts: (ca: string | null, host: string, peerVerify: number, hostname: string | null) => boolean;
  /** Older SLM releases take the client id inside #XMQTTCON. */
  readonly clientIdInConnect?: boolean;
  /** Milliseconds #XMQTTCON takes before answering (a slow handshake). */
  readonly connectDelayMs?: number;
}

export class ScriptedSlm {
  readonly #io: Duplex;
  readonly #opts: ScriptedSlmOptions;
  readonly credentials = new Map<string, string>();
  cfun: number;
  /** Every command line received, in order. */
  readonly received: string[] = [];
  readonly published: { topic: string; payload: string }[] = [];
  readonly #receiveWaiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  #line = '';
  #inQuotes = false;
  #mqttTag: number | null = null;
  #mqttConnected = false;
  #socket: { secTag: number; peerVerify: number; hostname: string | null } | null = null;

  constructor(io: Duplex, options: ScriptedSlmOptions) {
    this.#io = io;
    this.#opts = options;
    this.cfun = options.cfun ?? 1;
    for (const [k, v] of Object.entries(options.credentials ?? {})) this.credentials.set(k, v);
    io.on('data', (chunk: Buffer) => this.#onData(chunk.toString('latin1')));
    io.on('error', () => {});
    this.#write('\r\nReady\r\n');
  }

  #write(text: string): void {
    if (!this.#io.destroyed) this.#io.write(text);
  }

  #ok(lines: string[] = []): void {
    for (const l of lines) this.#write(`\r\n${l}`);
    this.#write('\r\nOK\r\n');
  }

  #error(cme?: number): void {
    this.#write(cme === undefined ? '\r\nERROR\r\n' : `\r\n+CME ERROR: ${cme}\r\n`);
  }

  #urc(line: string): void {
    this.#write(`\r\n${line}\r\n`);
  }

  /** Commands end at a CR outside quotes: %CMNG content carries CR LF inside its quotes. */
  #onData(text: string): void {
    for (const c of text) {
      if (c === '"') this.#inQuotes = !this.#inQuotes;
      if (c === '\r' && !this.#inQuotes) {
        const line = this.#line.replace(/^\n+/, '');
        this.#line = '';
        if (line.trim() !== '') this.#dispatch(line);
        continue;
      }
      this.#line += c;
    }
  }

  /** Resolves with the first command line (already received or still to come) that matches. */
  whenReceived(match: (line: string) => boolean): Promise<string> {
    const seen = this.received.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#receiveWaiters.push({ match, resolve }));
  }

  #dispatch(line: string): void {
    this.received.push(line);
    for (const w of this.#receiveWaiters.filter((x) => x.match(line))) {
      this.#receiveWaiters.splice(this.#receiveWaiters.indexOf(w), 1);
      w.resolve(line);
    }
    const simple: Record<string, string[]> = {
      AT: [],
      'AT+CGMI': ['Nordic Semiconductor ASA'],
      'AT+CGMM': ['nRF9160-SICA'],
      'AT+CGMR': ['mfw_nrf9160_1.3.5'],
      'AT+CGSN': ['352656100000001'],
      'AT+CCLK?': ['+CCLK: "26/11/23,12:00:00+00"'],
      'AT#XSLMVER': ['#XSLMVER: "2.5.0","mfw_nrf9160_1.3.5"'],
      'AT#XMQTTCON=?': [
        this.#opts.clientIdInConnect
          ? '#XMQTTCON: (0,1,2),<client_id>,<username>,<password>,<url>,<port>,<sec_tag>'
          : '#XMQTTCON: (0,1,2),<username>,<password>,<url>,<port>,<sec_tag>',
      ],
      'AT#XSSOCKET=?': ['#XSSOCKET: (0,1,2),(1,2),(0,1),<sec_tag>,<peer_verify>,<cid>'],
    };
    if (Object.hasOwn(simple, line)) return this.#ok(simple[line]);
    if (line === 'AT+CFUN?') return this.#ok([`+CFUN: ${this.cfun}`]);
    if (line === 'AT+CEREG?') return this.#ok([`+CEREG: 0,${this.cfun === 1 ? 1 : 4}`]);
    const m = /^AT([+#%][A-Z]+)=(.*)$/s.exec(line);
    if (!m) return this.#error();
    const { values } = parseAtArgs(m[2] ?? '');
    switch (m[1]) {
      case '+CFUN':
        this.cfun = Number(values[0]);
        return this.#ok();
      case '%CMNG':
        return this.#cmng(values);
      case '#XMQTTCFG':
        return this.#ok();
      case '#XMQTTCON':
        return this.#mqttCon(values);
      case '#XMQTTPUB':
        if (!this.#mqttConnected) return this.#error();
        this.published.push({ topic: values[0] ?? '', payload: values[1] ?? '' });
        this.#ok();
        return this.#urc('#XMQTTEVT: 3,0');
      case '#XSSOCKET':
        this.#socket = { secTag: Number(values[3]), peerVerify: Number(values[4] ?? 2), hostname: null };
        return this.#ok(['#XSSOCKET: 1,1,258']);
      case '#XSSOCKETOPT':
        if (!this.#socket) return this.#error();
        this.#socket.hostname = values[2] === 'NULL' ? null : (values[2] ?? null);
        return this.#ok();
      case '#XCONNECT': {
        const s = this.#socket;
        if (!s || this.cfun !== 1) return this.#error();
        const ca = this.credentials.get(`${s.secTag},0`) ?? null;
        if (!this.#opts.accepts(ca, values[0] ?? '', s.peerVerify, s.hostname)) return this.#error();
        return this.#ok(['#XCONNECT: 1']);
      }
      case '#XSOCKET':
        this.#socket = null;
        return this.#ok(['#XSOCKET: 0,"closed"']);
      default:
        return this.#error();
    }
  }

  #cmng(values: string[]): void {
    const [op, tagText, typeText, content] = values;
    const active = this.cfun === 1 || this.cfun === 2 || this.cfun === 21;
    const key = `${tagText},${typeText}`;
    switch (op) {
      case '0':
        if (active) return this.#error(518);
        if (this.credentials.has(key)) return this.#error(519);
        // PEM must arrive with CR LF line ends inside the quotes.
        if (!content || /[^\r]\n/.test(content)) return this.#error(50);
        this.credentials.set(key, content);
        return this.#ok();
      case '1': {
        const lines = [...this.credentials]
          .filter(([k]) => tagText === undefined || k.startsWith(`${tagText},`))
          .map(([k, v]) => `%CMNG: ${k},"${createHash('sha256').update(v).digest('hex').toUpperCase()}"`);
        return this.#ok(lines);
      }
      case '3':
        if (active) return this.#error(518);
        if (!this.credentials.delete(key)) return this.#error(513);
        return this.#ok();
      default:
        return this.#error();
    }
  }

  #mqttCon(values: string[]): void {
    if (values[0] === '0') {
      if (!this.#mqttConnected) return this.#error();
      this.#mqttConnected = false;
      this.#ok();
      return this.#urc('#XMQTTEVT: 1,0');
    }
    const args = this.#opts.clientIdInConnect ? values.slice(2) : values.slice(1);
    const [, , host = '', , tagText] = args;
    if (this.cfun !== 1) return this.#error();
    const tag = Number(tagText);
    const ca = this.credentials.get(`${tag},0`) ?? null;
    setTimeout(() => {
      // SLM MQTT with a sec_tag: peer verification required, hostname = the broker URL.
      if (!this.#opts.accepts(ca, host, 2, host)) return this.#error();
      this.#mqttTag = tag;
      this.#mqttConnected = true;
      this.#ok();
      this.#urc('#XMQTTEVT: 0,0');
    }, this.#opts.connectDelayMs ?? 0);
  }

  get mqttSecTag(): number | null {
    return this.#mqttTag;
  }
}
