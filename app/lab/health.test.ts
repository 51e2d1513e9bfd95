import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryPair } from '../../harness/transport/memory-pair.ts';
import { type RunningVirtualModem, startVirtualModem } from '../../harness/virtual-modem/start.ts';
import { checkHealth, type HealthReport } from './health.ts';
import type { InventoryDevice } from './inventory.ts';

const device = (over: Partial<InventoryDevice> = {}): InventoryDevice => ({
  name: 'dut',
  port: 'tcp://127.0.0.1:1',
  driver: 'quectel',
  capabilities: [],
  allowUnanswered: [],
  run: {},
  ...over,
});

const statusOf = (r: HealthReport) => Object.fromEntries(r.checks.map((c) => [c.name, c.status]));

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

async function virtual(
  family: 'quectel' | 'nrf91-slm' | 'simcom-a76xx',
): Promise<{ host: Duplex; modem: RunningVirtualModem }> {
  const [host, modemSide] = createMemoryPair();
  const modem = await startVirtualModem({ family }, modemSide);
  cleanup.push(() => {
    host.destroy();
    modem.stop();
  });
  return { host, modem };
}

/**
 * A device that answers from a table, for the answers the virtual modems never give: a missing
 * SIM, a modem searching for a network, a firmware nobody expected, or silence.
 */
function scripted(answers: Record<string, string | null>): Duplex {
  const [host, dut] = createMemoryPair();
  let line = '';
  dut.on('data', (chunk: Buffer) => {
    for (const c of chunk.toString('latin1')) {
      if (c !== '\r') {
        if (c !== '\n') line += c;
        continue;
      }
      const command = line.trim();
      line = '';
      const answer = command in answers ? answers[command] : '\r\nERROR\r\n';
      if (answer !== null && answer !== undefined) dut.write(`${command}\r${answer}`);
    }
  });
  cleanup.push(() => {
    host.destroy();
    dut.destroy();
  });
  return host;
}

const HEALTHY_QUECTEL = {
  AT: '\r\nOK\r\n',
  ATI: '\r\nQuectel\r\nEC200U\r\nRevision: EC200UCNAAR03A03M08\r\n\r\nOK\r\n',
  'AT+QGMR': '\r\nEC200UCNAAR03A03M08_01.001.01.001\r\n\r\nOK\r\n',
  'AT+CPIN?': '\r\n+CPIN: READY\r\n\r\nOK\r\n',
  'AT+CEREG?': '\r\n+CEREG: 0,1\r\n\r\nOK\r\n',
  'AT+QIACT?': '\r\n+QIACT: 1,1,1,"10.7.157.1"\r\n\r\nOK\r\n',
  'AT+CGDCONT?': '\r\n+CGDCONT: 1,"IP","cmnet.mnc002.mcc460.gprs","10.7.157.1",0,0,0,0\r\n\r\nOK\r\n',
};

describe('health check against the virtual modems', () => {
  it('the virtual Quectel answers every check as a registered module with data', async () => {
    const { host, modem } = await virtual('quectel');
    const r = await checkHealth(host, device({ model: modem.model, firmware: modem.firmware }), {
      timeoutMs: 1_000,
    });
    expect(statusOf(r)).toEqual({
      at: 'pass',
      identity: 'pass',
      sim: 'pass',
      registration: 'pass',
      pdp: 'pass',
    });
    expect(r.healthy).toBe(true);
    expect(r.reported).toEqual({ model: modem.model, firmware: `${modem.firmware}_01.001.01.001` });
  });

  it('the virtual nRF91 answers every check, and reports a modem with its radio off as not registered', async () => {
    const { host, modem } = await virtual('nrf91-slm');
    const r = await checkHealth(host, device({ driver: 'nrf91-slm', firmware: modem.firmware }), {
      timeoutMs: 1_000,
    });
    // At boot the SLM modem is in CFUN=0: not registered and no PDN, which the check reports as such.
    expect(statusOf(r)).toEqual({
      at: 'pass',
      identity: 'pass',
      sim: 'pass',
      registration: 'fail',
      pdp: 'fail',
    });
    expect(r.healthy).toBe(false);
  });

  it('the virtual SIMCom A76xx answers every check in its own dialect (AT+SIMCOMATI, AT+CGACT?)', async () => {
    const { host, modem } = await virtual('simcom-a76xx');
    const r = await checkHealth(
      host,
      device({ driver: 'simcom-a76xx', model: modem.model, firmware: modem.firmware }),
      { timeoutMs: 1_000 },
    );
    expect(statusOf(r)).toEqual({
      at: 'pass',
      identity: 'pass',
      sim: 'pass',
      registration: 'pass',
      pdp: 'pass',
    });
    expect(r.reported).toEqual({ model: 'A7670E-LASE', firmware: 'A011B07A7670M7' });
  });

  it('a check the device does not implement is "not answered", never passed, and excludes it unless the inventory allows it', async () => {
    const { 'AT+CEREG?': _cereg, ...withoutRegistration } = HEALTHY_QUECTEL;
    const dut = device({ model: 'EC200U', apn: 'cmnet' });
    const strict = await checkHealth(scripted(withoutRegistration), dut, { timeoutMs: 1_000 });
    expect(statusOf(strict)).toMatchObject({
      at: 'pass',
      sim: 'pass',
      registration: 'not-answered',
      pdp: 'pass',
    });
    expect(strict.healthy).toBe(false);
    expect(strict.reason).toMatch(/^registration not-answered: AT\+CEREG\?: ERROR.*AT\+CREG\?: ERROR/);
    const allowed = await checkHealth(
      scripted(withoutRegistration),
      { ...dut, allowUnanswered: ['registration'] },
      { timeoutMs: 1_000 },
    );
    expect(allowed.healthy).toBe(true);
    expect(allowed.checks.find((c) => c.name === 'registration')).toMatchObject({
      status: 'not-answered',
      allowed: true,
    });
  });

  it('a wrong firmware on the port excludes the device with both revisions named', async () => {
    const { host } = await virtual('quectel');
    const r = await checkHealth(host, device({ firmware: 'EC200UCNAAR01A04M08' }), {
      timeoutMs: 1_000,
    });
    expect(r.healthy).toBe(false);
    expect(r.reason).toMatch(
      /^identity fail: expected firmware EC200UCNAAR01A04M08, the device says .*EC200UCNAAR03A03M08/,
    );
  });
});

describe('health check against scripted devices', () => {
  it('a SIMCom module without AT+SIMCOMATI is identified from ATI', async () => {
    const host = scripted({
      AT: '\r\nOK\r\n',
      ATI: '\r\nManufacturer: SIMCOM INCORPORATED\r\nModel: A7672E-FASE\r\nRevision: A7672M7_V1.0\r\nIMEI: 861234567890123\r\n\r\nOK\r\n',
      'AT+CGMR': '\r\n+CGMR: A7672M7_V1.0\r\n\r\nOK\r\n',
      'AT+CPIN?': '\r\n+CPIN: READY\r\n\r\nOK\r\n',
      'AT+CEREG?': '\r\n+CEREG: 0,5\r\n\r\nOK\r\n',
      'AT+CGACT?': '\r\n+CGACT: 1,1\r\n\r\nOK\r\n',
      'AT+CGDCONT?': '\r\n+CGDCONT: 1,"IP","internet","10.1.2.3",0,0,0,0\r\n\r\nOK\r\n',
    });
    const r = await checkHealth(host, device({ driver: 'simcom-a76xx', model: 'A7672E-FASE' }), {
      timeoutMs: 500,
    });
    expect(statusOf(r)).toMatchObject({ identity: 'pass', registration: 'pass', pdp: 'pass' });
    expect(r.reported).toEqual({ model: 'A7672E-FASE', firmware: 'A7672M7_V1.0' });
  });

  it('passes a device that answers every check as a registered module with data does', async () => {
    const r = await checkHealth(scripted(HEALTHY_QUECTEL), device({ model: 'EC200U', apn: 'cmnet' }), {
      timeoutMs: 500,
    });
    expect(r.reason).toBeNull();
    expect(statusOf(r)).toEqual({
      at: 'pass',
      identity: 'pass',
      sim: 'pass',
      registration: 'pass',
      pdp: 'pass',
      apn: 'pass',
    });
    expect(r.checks.find((c) => c.name === 'registration')?.detail).toBe(
      '+CEREG: 0,1: registered, home network',
    );
  });

  it('excludes a device without a SIM, searching for a network, without data, with the reasons recorded', async () => {
    const broken = scripted({
      ...HEALTHY_QUECTEL,
      'AT+CPIN?': '\r\n+CME ERROR: 10\r\n',
      'AT+CEREG?': '\r\n+CEREG: 0,2\r\n\r\nOK\r\n',
      'AT+QIACT?': '\r\nOK\r\n',
      'AT+CGDCONT?': '\r\n+CGDCONT: 1,"IP","internet","0.0.0.0",0,0\r\n\r\nOK\r\n',
    });
    const r = await checkHealth(broken, device({ apn: 'cmnet', allowUnanswered: ['sim', 'pdp'] }), {
      timeoutMs: 500,
    });
    // An answer that rules the device out is a failure even where "not answered" is allowed.
    expect(statusOf(r)).toEqual({
      at: 'pass',
      identity: 'pass',
      sim: 'fail',
      registration: 'fail',
      pdp: 'fail',
      apn: 'fail',
    });
    expect(r.healthy).toBe(false);
    expect(r.reason).toBe('sim fail: AT+CPIN?: +CME ERROR: 10');
    const detail = Object.fromEntries(r.checks.map((c) => [c.name, c.detail]));
    expect(detail.registration).toBe('+CEREG: 0,2: not registered, searching');
    expect(detail.pdp).toBe('no active PDP context (no context listed)');
    expect(detail.apn).toBe('APN cmnet not among internet');
  });

  it('a silent device: AT not answered within the bound, the rest not run, in bounded time', async () => {
    const started = Date.now();
    const r = await checkHealth(scripted({ AT: null }), device(), { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.healthy).toBe(false);
    expect(r.reason).toBe('at not-answered: AT: no answer');
    expect(r.checks.slice(1).every((c) => c.status === 'not-run')).toBe(true);
  });

  it('a device on the wrong port (another model answers) is excluded', async () => {
    const r = await checkHealth(scripted(HEALTHY_QUECTEL), device({ model: 'EC800N' }), { timeoutMs: 500 });
    expect(r.reason).toMatch(/^identity fail: expected model EC800N, the device says model EC200U/);
  });
});
