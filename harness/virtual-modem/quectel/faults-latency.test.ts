import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedesTlsEndpoint } from '../../../brokers/aedes-tls.ts';
import type { EndpointHandle } from '../../../brokers/endpoint.ts';
import { AtEngine, dialectOptions } from '../../at/engine.ts';
import { AtRestartError, AtTimeoutError } from '../../at/errors.ts';
import { Transcript } from '../../at/transcript.ts';
import { QUECTEL_AT } from '../../drivers/quectel/at-dialect.ts';
import { qfuplChecksum } from '../../drivers/quectel/checksum.ts';
import { createMemoryPair } from '../../transport/memory-pair.ts';
import type { Fault } from '../faults.ts';
import { makePki } from '../fixtures/pki.ts';
import type { LatencyModel } from '../latency.ts';
import { type RunningVirtualModem, startVirtualModem } from '../start.ts';
import { TEST_HOST, TEST_NETWORK } from '../testing.ts';

let endpoint: EndpointHandle;
beforeAll(async () => {
  const pki = await makePki(TEST_HOST);
  endpoint = await startAedesTlsEndpoint({ chainPem: pki.chainPem, keyPem: pki.keyPem });
});
afterAll(() => endpoint.stop());

const opened: RunningVirtualModem[] = [];
afterAll(() => {
  for (const m of opened) m.stop();
});

async function rig(options: { faults?: Fault[]; latency?: LatencyModel } = {}) {
  const [host, modemSide] = createMemoryPair();
  const modem = await startVirtualModem(
    { family: 'quectel', network: TEST_NETWORK, engine: 'node', ...options },
    modemSide,
  );
  opened.push(modem);
  const transcript = new Transcript();
  const at = new AtEngine(host, { transcript, ...dialectOptions(QUECTEL_AT) });
  await at.waitForUrc(/^RDY$/, { timeoutMs: 1_000 });
  return { modem, at, transcript };
}

/** Opens MQTT client 0 over TLS with verification off: a live session to break. */
async function openMqtt(at: AtEngine) {
  await at.commandOk('AT+QMTCFG="ssl",0,1,0');
  await at.commandOk(`AT+QMTOPEN=0,"${TEST_HOST}",${endpoint.listenPort}`);
  return at.waitForUrc(/^\+QMTOPEN: 0,/, { timeoutMs: 5_000 });
}

describe('injected faults', () => {
  it('reboot mid-case: no answer, then RDY; files kept, SSL contexts back to defaults', async () => {
    const { at, modem } = await rig({ faults: [{ kind: 'reboot', on: { command: '^AT\\+QMTCONN=' } }] });
    const pem = Buffer.from('-----BEGIN CERTIFICATE-----\nkept\n-----END CERTIFICATE-----\n');
    await at.commandWithData(`AT+QFUPL="UFS:keep.pem",${pem.length},5`, pem, {
      prompt: 'CONNECT',
      timeoutMs: 2_000,
    });
    await at.commandOk('AT+QSSLCFG="seclevel",2,1');
    expect(await openMqtt(at)).toBe('+QMTOPEN: 0,0');
    // The RDY ends the command at once: a 20 s bound was never the reason it stopped.
    const started = Date.now();
    await expect(at.command('AT+QMTCONN=0,"x"', { timeoutMs: 20_000 })).rejects.toBeInstanceOf(
      AtRestartError,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    await at.waitForUrc(/^RDY$/, { timeoutMs: 2_000 });
    expect((await at.commandOk('AT+QFLST="*"')).lines).toEqual([`+QFLST: "UFS:keep.pem",${pem.length}`]);
    expect((await at.commandOk('AT+QSSLCFG="seclevel",2')).lines).toEqual(['+QSSLCFG: "seclevel",2,0']);
    expect((await at.command('AT+QMTCONN=0,"x"')).final).toBe('+CME ERROR: 3'); // the session is gone
    expect(modem.faultsFired().map((f) => f.kind)).toEqual(['reboot']);
  });

  it('AT+CFUN=1,1 answers OK, then reboots with RDY', async () => {
    const { at } = await rig();
    await at.commandOk('ATE0');
    await at.commandOk('AT+CFUN=1,1');
    await at.waitForUrc(/^RDY$/, { timeoutMs: 2_000 });
    const echoed = await at.commandOk('AT+CMEE?');
    expect(echoed.lines).toEqual(['+CMEE: 1']);
  });

  it('a command sent the moment RDY arrives is answered, every time', async () => {
    const { at } = await rig();
    for (let i = 0; i < 15; i++) {
      await at.commandOk('AT+CFUN=1,1');
      await at.waitForUrc(/^RDY$/, { timeoutMs: 2_000 });
      expect((await at.command('AT', { timeoutMs: 500 })).final).toBe('OK');
    }
  });

  it('PDP deactivation: +QIURC: "pdpdeact",1 and the MQTT client reports +QMTSTAT', async () => {
    const { at } = await rig({ faults: [{ kind: 'pdp-deactivate', on: { command: '^AT\\+QMTOPEN\\?' } }] });
    expect(await openMqtt(at)).toBe('+QMTOPEN: 0,0');
    await at.commandOk('AT+QMTOPEN?');
    expect(await at.waitForUrc(/^\+QIURC:/, { timeoutMs: 1_000 })).toBe('+QIURC: "pdpdeact",1');
    expect(await at.waitForUrc(/^\+QMTSTAT:/, { timeoutMs: 1_000 })).toBe('+QMTSTAT: 0,1');
    expect((await at.commandOk('AT+QIACT?')).lines).toEqual([]);
  });

  it('a lost URC never arrives: the host must time out', async () => {
    const { at, transcript } = await rig({ faults: [{ kind: 'lose-urc', urc: '^\\+QMTOPEN: 0,' }] });
    await expect(openMqtt(at)).rejects.toBeInstanceOf(AtTimeoutError);
    expect(JSON.stringify(transcript.since(0))).not.toContain('+QMTOPEN: 0,');
  }, 10_000);

  it('garbage bytes arrive before an answer', async () => {
    const { at, transcript } = await rig({
      faults: [{ kind: 'garbage', on: { command: '^ATI$' }, bytes: '#~junk~#\r\n' }],
    });
    const r = await at.command('ATI');
    expect(JSON.stringify(transcript.since(0))).toContain('#~junk~#');
    expect(r.final).toBe('OK');
  });

  it('a truncated upload keeps what arrived and says so; the checksum exposes it', async () => {
    const { at } = await rig({ faults: [{ kind: 'truncate-upload', keepBytes: 10 }] });
    const data = Buffer.from('0123456789abcdefghij');
    const r = await at.commandWithData(`AT+QFUPL="UFS:t.pem",${data.length},1`, data, {
      prompt: 'CONNECT',
      timeoutMs: 3_000,
    });
    expect(r.lines).toEqual([`+QFUPL: 10,${qfuplChecksum(data.subarray(0, 10))}`]);
    expect(r.lines[0]).not.toBe(`+QFUPL: ${data.length},${qfuplChecksum(data)}`);
  });

  it('an answer slower than the documented 300 ms maximum', async () => {
    const { at } = await rig({
      faults: [{ kind: 'slow-answer', on: { command: '^AT\\+QSSLCFG' }, delayMs: 700 }],
    });
    await expect(at.command('AT+QSSLCFG="sni",1', { timeoutMs: 300 })).rejects.toBeInstanceOf(AtTimeoutError);
  });
});

describe('dialect details from the documents', () => {
  it('407 for an existing file, 405 for a missing one, QFLDS free/total', async () => {
    const { at } = await rig();
    const d = Buffer.from('abc');
    await at.commandWithData('AT+QFUPL="UFS:a.pem",3,5', d, { prompt: 'CONNECT', timeoutMs: 2_000 });
    expect((await at.command('AT+QFUPL="UFS:a.pem",3,5')).final).toBe('+CME ERROR: 407');
    expect((await at.command('AT+QFDEL="UFS:none.pem"')).final).toBe('+CME ERROR: 405');
    const [free, total] = ((await at.commandOk('AT+QFLDS="UFS"')).lines[0] ?? '')
      .slice(8)
      .split(',')
      .map(Number);
    expect((total ?? 0) - (free ?? 0)).toBe(3);
    await at.commandOk('AT+CMEE=0');
    expect((await at.command('AT+QFDEL="UFS:none.pem"')).final).toBe('ERROR');
    await at.commandOk('AT+CMEE=2');
    expect((await at.command('AT+QFDEL="UFS:none.pem"')).final).toBe('+CME ERROR: file not found');
  });

  it('QSSLCFG=? lists every key the model has; a quoted number is refused', async () => {
    const { at } = await rig();
    const keys = (await at.commandOk('AT+QSSLCFG=?')).lines.map((l) => /^\+QSSLCFG: "([^"]+)"/.exec(l)?.[1]);
    expect(keys).toContain('ignorecertitem'); // EC200U extra
    expect(keys).toContain('ignoremulticertchainverify');
    expect(keys).toHaveLength(15);
    expect((await at.command('AT+QSSLCFG="ciphersuite",1,"0XFFFF"')).final).toBe('ERROR');
    await at.commandOk('AT+QSSLCFG="ciphersuite",1,0xc02f');
    expect((await at.commandOk('AT+QSSLCFG="ciphersuite",1')).lines).toEqual([
      '+QSSLCFG: "ciphersuite",1,0XC02F',
    ]);
  });

  it('QSSLOPEN: 563 for a used client id, 565 for a name that does not resolve, QIGETERROR', async () => {
    const { at } = await rig();
    await at.commandOk(`AT+QSSLOPEN=1,1,3,"${TEST_HOST}",${endpoint.listenPort},0`);
    expect(await at.waitForUrc(/^\+QSSLOPEN: 3,/, { timeoutMs: 5_000 })).toBe('+QSSLOPEN: 3,0');
    expect((await at.command(`AT+QSSLOPEN=1,1,3,"${TEST_HOST}",${endpoint.listenPort},0`)).final).toBe(
      '+CME ERROR: 563',
    );
    expect((await at.commandOk('AT+QIGETERROR')).lines).toEqual([
      '+QIGETERROR: 563,Socket identity has been used',
    ]);
    await at.commandOk('AT+QSSLOPEN=1,1,4,"nowhere.test",8883,0');
    expect(await at.waitForUrc(/^\+QSSLOPEN: 4,/, { timeoutMs: 5_000 })).toBe('+QSSLOPEN: 4,565');
    expect((await at.commandOk('AT+QSSLSTATE')).lines).toHaveLength(1);
    await at.commandOk('AT+QSSLCLOSE=3');
  });
});

describe('latency model', () => {
  it('charges every byte at the baud rate and every command its processing time', async () => {
    const { at, modem } = await rig({ latency: { baudRate: 9600, commandMs: 20 } });
    const start = Date.now();
    await at.command('ATI', { timeoutMs: 2_000 });
    const wall = Date.now() - start;
    const t = modem.deviceTime();
    // "ATI\r" in, echo + three lines + OK out: well over 40 bytes at ~1 ms per byte.
    expect(t.serialMs).toBeGreaterThan(40);
    expect(t.processingMs).toBe(20);
    expect(t.totalMs).toBe(t.serialMs + t.processingMs + t.networkMs);
    expect(wall).toBeGreaterThanOrEqual(20);
  });

  it('is zero by default', async () => {
    const { at, modem } = await rig();
    await at.command('ATI');
    expect(modem.deviceTime().totalMs).toBe(0);
  });
});
