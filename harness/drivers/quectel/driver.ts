import type { AtEngine } from '../../at/engine.ts';
import { AtCommandError, AtLinkError, AtTimeoutError } from '../../at/errors.ts';
import type { DeviceIdentity, DeviceOutcome, ModemDriver, MqttCaseInput, RawCode } from '../driver.ts';
import { qfuplChecksum } from './checksum.ts';
import { QUECTEL_TIMEOUTS, type QuectelTimeouts } from './timeouts.ts';

/** The device resources this harness may touch; everything else on the module is left alone. */
export interface QuectelOwnership {
  /** Files the harness creates start with this (after the UFS: prefix). */
  readonly filePrefix: string;
  readonly sslContext: number;
  readonly mqttClient: number;
}

export const DEFAULT_QUECTEL_OWNERSHIP: QuectelOwnership = {
  filePrefix: 'trustlab_',
  sslContext: 1,
  mqttClient: 1,
};

const SSL_KEYS_SET = ['cacert', 'seclevel', 'sslversion', 'sni'] as const;

const quote = (s: string) => `"${s.replaceAll('"', '')}"`;
const stamp = () => new Date().toISOString();

/** Value of a `+QSSLCFG: "key",<ctx>,<value>` read-back, quotes removed. */
function readBackValue(lines: readonly string[], prefix: string): string | null {
  const line = lines.find((l) => l.startsWith(prefix));
  if (!line) return null;
  const value = line.slice(prefix.length).replace(/^"|"$/g, '');
  return value;
}

/** Quectel EC200U-CN / EC800N-CN / EC200M-CN dialect (QFUPL, QSSLCFG, QMT*). */
export class QuectelDriver implements ModemDriver {
  readonly family = 'quectel';
  readonly #at: AtEngine;
  readonly #own: QuectelOwnership;
  readonly #timeouts: QuectelTimeouts;

  constructor(
    at: AtEngine,
    ownership = DEFAULT_QUECTEL_OWNERSHIP,
    timeouts: QuectelTimeouts = QUECTEL_TIMEOUTS,
  ) {
    this.#at = at;
    this.#own = ownership;
    this.#timeouts = timeouts;
  }

  async identify(): Promise<DeviceIdentity> {
    const ati = await this.#at.commandOk('ATI', { timeoutMs: this.#timeouts.basic });
    const qgmr = await this.#at.command('AT+QGMR', { timeoutMs: this.#timeouts.basic });
    const cgsn = await this.#at.command('AT+CGSN', { timeoutMs: this.#timeouts.basic });
    const revision = ati.lines
      .find((l) => l.startsWith('Revision:'))
      ?.slice('Revision:'.length)
      .trim();
    return {
      manufacturer: ati.lines[0] ?? 'unknown',
      model: ati.lines[1] ?? 'unknown',
      firmware: (qgmr.ok ? qgmr.lines[0] : undefined) ?? revision ?? 'unknown',
      imei: cgsn.ok ? (cgsn.lines.find((l) => /^\d{15}$/.test(l)) ?? null) : null,
    };
  }

  async runMqttCase(input: MqttCaseInput): Promise<DeviceOutcome> {
    const codes: RawCode[] = [];
    const reached = { tlsOpened: false, mqttConnected: false, publishAcked: false };
    const restores: (() => Promise<unknown>)[] = [];
    const note = (step: string, raw: string) => codes.push({ step, raw, at: stamp() });
    const idx = this.#own.mqttClient;
    const ctx = this.#own.sslContext;
    let error: string | null = null;
    let healthy = true;
    this.#at.clearBacklog();

    try {
      const caPath =
        input.anchorsPem === null ? '' : await this.#uploadOwnFile('ca.pem', input.anchorsPem, restores);
      await this.#setSsl(ctx, 'cacert', quote(caPath), restores);
      await this.#setSsl(ctx, 'seclevel', String(input.settings.seclevel), restores);
      await this.#setSsl(ctx, 'sslversion', String(input.settings.sslversion), restores);
      await this.#setSsl(ctx, 'sni', String(input.settings.sni), restores);
      await this.#setMqttSsl(idx, ctx, restores);

      await this.#at.commandOk(`AT+QMTOPEN=${idx},${quote(input.host)},${input.port}`, {
        timeoutMs: this.#timeouts.basic,
      });
      const open = await this.#at.waitForUrc(new RegExp(`^\\+QMTOPEN: ${idx},`), {
        timeoutMs: this.#timeouts.mqttOpen,
      });
      note('open', open);
      if (open !== `+QMTOPEN: ${idx},0`) return { codes, reached, error, healthy };
      reached.tlsOpened = true;

      const failOn = new RegExp(`^\\+QMTSTAT: ${idx},`);
      await this.#at.commandOk(`AT+QMTCONN=${idx},${quote(input.clientId)}`, {
        timeoutMs: this.#timeouts.basic,
      });
      const conn = await this.#at.waitForUrc(new RegExp(`^\\+QMTCONN: ${idx},`), {
        timeoutMs: this.#timeouts.mqttPacket,
        failOn,
      });
      note('connect', conn);
      reached.mqttConnected = conn === `+QMTCONN: ${idx},0,0`;

      if (reached.mqttConnected) {
        const payload = Buffer.from(input.payload, 'utf8');
        const pub = await this.#at.commandWithData(
          `AT+QMTPUBEX=${idx},1,1,0,${quote(input.topic)},${payload.length}`,
          payload,
          { prompt: '>', timeoutMs: this.#timeouts.mqttPacket },
        );
        if (!pub.ok) note('publish', pub.final);
        else {
          const ack = await this.#at.waitForUrc(new RegExp(`^\\+QMTPUBEX: ${idx},1,`), {
            timeoutMs: this.#timeouts.mqttPacket,
            failOn,
          });
          note('publish', ack);
          reached.publishAcked = ack === `+QMTPUBEX: ${idx},1,0`;
        }
        await this.#at.commandOk(`AT+QMTDISC=${idx}`, { timeoutMs: this.#timeouts.basic });
        note(
          'disconnect',
          await this.#at.waitForUrc(new RegExp(`^\\+QMTDISC: ${idx},`), {
            timeoutMs: this.#timeouts.mqttPacket,
          }),
        );
      } else {
        await this.#closeMqtt(idx, note);
      }
    } catch (err) {
      error = (err as Error).message;
      // A refused command or a wrong read-back is an answer; silence or a lost link is not.
      healthy = !(err instanceof AtTimeoutError || err instanceof AtLinkError);
      if (reached.tlsOpened && healthy) await this.#closeMqtt(idx, note).catch(() => {});
    } finally {
      // Restore in reverse order; a failure here leaves the device unhealthy, never silently changed.
      for (const restore of restores.reverse()) {
        try {
          await restore();
        } catch (err) {
          error ??= `restore failed: ${(err as Error).message}`;
          healthy = false;
        }
      }
    }
    return { codes, reached, error, healthy };
  }

  async #closeMqtt(idx: number, note: (step: string, raw: string) => void): Promise<void> {
    const r = await this.#at.command(`AT+QMTCLOSE=${idx}`, { timeoutMs: this.#timeouts.basic });
    if (!r.ok) return note('close', r.final);
    note(
      'close',
      await this.#at.waitForUrc(new RegExp(`^\\+QMTCLOSE: ${idx},`), {
        timeoutMs: this.#timeouts.mqttClose,
      }),
    );
  }

  /** Uploads a file under the owned prefix; refuses to touch a name it does not own. */
  async #uploadOwnFile(name: string, content: string, restores: (() => Promise<unknown>)[]): Promise<string> {
    const path = `UFS:${this.#own.filePrefix}${name}`;
    const listing = await this.#at.commandOk('AT+QFLST="*"', { timeoutMs: this.#timeouts.basic });
    const existing = listing.lines.some(
      (l) => l.startsWith(`+QFLST: "${path}"`) || l.startsWith(`+QFLST: "${path.slice(4)}"`),
    );
    // The name carries our prefix, so a leftover from an interrupted run is ours to replace.
    if (existing) await this.#at.commandOk(`AT+QFDEL=${quote(path)}`, { timeoutMs: this.#timeouts.basic });
    const bytes = Buffer.from(content, 'utf8');
    const up = await this.#at.commandWithData(
      `AT+QFUPL=${quote(path)},${bytes.length},${this.#timeouts.uploadTimeoutS}`,
      bytes,
      { prompt: 'CONNECT', timeoutMs: this.#timeouts.uploadTimeoutS * 1000 + this.#timeouts.basic },
    );
    if (!up.ok) throw new AtCommandError('AT+QFUPL', up.final);
    restores.push(() => this.#at.commandOk(`AT+QFDEL=${quote(path)}`, { timeoutMs: this.#timeouts.basic }));
    const expected = `+QFUPL: ${bytes.length},${qfuplChecksum(bytes)}`;
    const reported = up.lines.find((l) => l.startsWith('+QFUPL:'));
    const m = /^\+QFUPL: (\d+),([0-9a-f]+)$/i.exec(reported ?? '');
    // Compare as numbers: modules differ in hex case and leading zeros.
    if (
      Number(m?.[1]) !== bytes.length ||
      Number.parseInt(m?.[2] ?? '', 16) !== Number.parseInt(qfuplChecksum(bytes), 16)
    ) {
      throw new Error(
        `upload of ${path} corrupted: device reported ${reported ?? 'nothing'}, expected ${expected}`,
      );
    }
    return path;
  }

  /** Sets one SSL key after saving its value, then reads it back. */
  async #setSsl(
    ctx: number,
    key: (typeof SSL_KEYS_SET)[number],
    value: string,
    restores: (() => Promise<unknown>)[],
  ) {
    const prefix = `+QSSLCFG: "${key}",${ctx},`;
    const before = await this.#at.commandOk(`AT+QSSLCFG="${key}",${ctx}`, {
      timeoutMs: this.#timeouts.basic,
    });
    const previous = readBackValue(before.lines, prefix);
    await this.#at.commandOk(`AT+QSSLCFG="${key}",${ctx},${value}`, { timeoutMs: this.#timeouts.basic });
    if (previous !== null) {
      const restoreValue = key === 'cacert' ? quote(previous) : previous;
      restores.push(() =>
        this.#at.commandOk(`AT+QSSLCFG="${key}",${ctx},${restoreValue}`, { timeoutMs: this.#timeouts.basic }),
      );
    }
    const after = await this.#at.commandOk(`AT+QSSLCFG="${key}",${ctx}`, { timeoutMs: this.#timeouts.basic });
    const readBack = readBackValue(after.lines, prefix);
    if (readBack !== value.replace(/^"|"$/g, '')) {
      throw new Error(`QSSLCFG "${key}" read back ${readBack ?? 'nothing'} after setting ${value}`);
    }
  }

  async #setMqttSsl(idx: number, ctx: number, restores: (() => Promise<unknown>)[]) {
    const before = await this.#at.commandOk(`AT+QMTCFG="ssl",${idx}`, { timeoutMs: this.#timeouts.basic });
    const previous = readBackValue(before.lines, `+QMTCFG: "ssl",${idx},`);
    await this.#at.commandOk(`AT+QMTCFG="ssl",${idx},1,${ctx}`, { timeoutMs: this.#timeouts.basic });
    if (previous !== null) {
      restores.push(() =>
        this.#at.commandOk(`AT+QMTCFG="ssl",${idx},${previous}`, { timeoutMs: this.#timeouts.basic }),
      );
    }
  }
}
