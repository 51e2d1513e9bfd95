import type { Duplex } from 'node:stream';
import mqttPacket, { type Packet } from 'mqtt-packet';

export type MqttWait<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: 'timeout' | 'closed' };

/** A minimal MQTT 3.1/3.1.1 client over an established stream, one step per AT command. */
export class MqttSession {
  readonly #stream: Duplex;
  readonly #version: 3 | 4;
  readonly #waiters: { match: (p: Packet) => boolean; settle: (p: Packet | null) => void }[] = [];
  #closed = false;
  readonly #closeListeners: (() => void)[] = [];
  /** How long the connection stays open after the module is done with it (a late close). */
  readonly #closeLagMs: number;

  constructor(stream: Duplex, version: 3 | 4, closeLagMs = 0) {
    this.#stream = stream;
    this.#closeLagMs = closeLagMs;
    this.#version = version;
    const parser = mqttPacket.parser({ protocolVersion: version });
    parser.on('packet', (p: Packet) => {
      const i = this.#waiters.findIndex((w) => w.match(p));
      if (i >= 0) this.#waiters.splice(i, 1)[0]?.settle(p);
    });
    parser.on('error', () => stream.destroy());
    stream.on('data', (chunk: Buffer) => parser.parse(chunk));
    stream.on('error', () => {});
    stream.on('close', () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w.settle(null);
      for (const l of this.#closeListeners) l();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  onClose(listener: () => void): void {
    this.#closeListeners.push(listener);
  }

  connect(clientId: string, timeoutMs: number): Promise<MqttWait<number>> {
    this.#send({
      cmd: 'connect',
      protocolId: this.#version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: this.#version,
      clientId,
      clean: true,
      keepalive: 120,
    });
    return this.#await(
      (p) => p.cmd === 'connack',
      timeoutMs,
      (p) => (p as { returnCode?: number }).returnCode ?? 0,
    );
  }

  publish(
    topic: string,
    payload: Buffer,
    qos: 0 | 1,
    messageId: number,
    timeoutMs: number,
  ): Promise<MqttWait<true>> {
    this.#send({
      cmd: 'publish',
      topic,
      payload,
      qos,
      retain: false,
      dup: false,
      ...(qos > 0 ? { messageId } : {}),
    });
    if (qos === 0) return Promise.resolve({ ok: true, value: true });
    return this.#await(
      (p) => p.cmd === 'puback' && p.messageId === messageId,
      timeoutMs,
      () => true,
    );
  }

  disconnect(): void {
    // A late close holds the DISCONNECT too: the broker would otherwise end the connection on time.
    this.#later(() => {
      this.#send({ cmd: 'disconnect' });
      this.#stream.end();
    });
  }

  destroy(): void {
    this.#later(() => this.#stream.destroy());
  }

  #later(close: () => void): void {
    if (this.#closeLagMs <= 0) return close();
    setTimeout(close, this.#closeLagMs).unref();
  }

  #send(packet: Packet): void {
    if (!this.#closed) this.#stream.write(mqttPacket.generate(packet, { protocolVersion: this.#version }));
  }

  #await<T>(match: (p: Packet) => boolean, timeoutMs: number, map: (p: Packet) => T): Promise<MqttWait<T>> {
    if (this.#closed) return Promise.resolve({ ok: false, reason: 'closed' });
    return new Promise((resolve) => {
      const waiter = {
        match,
        settle: (p: Packet | null) => {
          clearTimeout(timer);
          resolve(p === null ? { ok: false, reason: 'closed' } : { ok: true, value: map(p) });
        },
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve({ ok: false, reason: 'timeout' });
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }
}
