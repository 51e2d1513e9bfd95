import { describe, expect, it } from 'vitest';
import type { AtResponse } from '../at/engine.ts';
import { openDevice } from '../runner/device.ts';
import type { DeviceIdentity } from './driver.ts';
import { fieldFrom, IDENTITY_PATTERNS, identifyReliably, identityField } from './identity.ts';

const answer = (command: string, lines: string[], ok = true): AtResponse => ({
  command,
  final: ok ? 'OK' : 'ERROR',
  ok,
  lines,
});

const identity = (over: Partial<DeviceIdentity>): DeviceIdentity => ({
  manufacturer: 'Quectel',
  model: 'EC200U',
  firmware: 'EC200UCNAAR03A03M08',
  imei: null,
  ...over,
});

describe('identity fields are taken by pattern, printable and bounded', () => {
  it('refuses control bytes, non-ASCII, over-long and off-pattern lines', () => {
    expect(identityField('EC200UCNAAR03A03M08_01.001.01.001', IDENTITY_PATTERNS.firmware)).toBe(
      'EC200UCNAAR03A03M08_01.001.01.001',
    );
    expect(identityField('EC200U\u0000', IDENTITY_PATTERNS.model)).toBeNull();
    expect(identityField('EC200Ü', IDENTITY_PATTERNS.model)).toBeNull();
    expect(identityField('A'.repeat(40_960), IDENTITY_PATTERNS.firmware)).toBeNull();
    expect(identityField('+QIND: "csq"', IDENTITY_PATTERNS.firmware)).toBeNull();
    expect(identityField('86612345678901', IDENTITY_PATTERNS.imei)).toBeNull();
  });

  it('takes the first clean line of an answer, not its first line', () => {
    const qgmr = answer('AT+QGMR', [
      '#~\u0000\u00ff',
      'X'.repeat(1_000_000),
      'EC200UCNAAR03A03M08_01.001.01.001',
    ]);
    expect(fieldFrom(qgmr, IDENTITY_PATTERNS.firmware)).toBe('EC200UCNAAR03A03M08_01.001.01.001');
    expect(fieldFrom(answer('AT+QGMR', ['EC200U'], false), IDENTITY_PATTERNS.firmware)).toBeNull();
  });
});

describe('a garbled identity is asked again, then marked unreliable', () => {
  it('a garbled first answer and a clean second one give a reliable identity', async () => {
    let calls = 0;
    const id = await identifyReliably(async () => {
      calls++;
      return { identity: identity(calls === 1 ? { model: 'unknown' } : {}), answers: [] };
    });
    expect(calls).toBe(2);
    expect(id).toMatchObject({ model: 'EC200U', reliable: true });
  });

  it('garbled twice: unreliable, fields unknown, the raw answers escaped with no control byte', async () => {
    const garbled = answer('ATI', ['\u0000\u001b[0m', 'Revision: \u00ff']);
    const id = await identifyReliably(async () => ({
      identity: identity({ model: 'unknown', firmware: 'unknown' }),
      answers: [garbled],
    }));
    expect(id).toMatchObject({ reliable: false, model: 'unknown', firmware: 'unknown' });
    expect(id.raw).toContain('ATI: \\x00\\x1b[0m\\nRevision: \\xff\\nOK');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting none are left
    expect(id.raw).not.toMatch(/[\u0000-\u001f\u007f-\uffff]/);
  });
});

describe('the drivers read identity through noise on the line', () => {
  it('Quectel: a stray line before ATI and a 1 MB line before AT+QGMR leave model and firmware right', async () => {
    const device = await openDevice({
      driver: 'quectel',
      virtualModem: {
        faults: [
          { kind: 'garbage', on: { command: '^ATI$' }, bytes: 'STRAY DEBUG LINE\r\n\u0000\u00ff\r\n' },
          { kind: 'garbage', on: { command: '^AT\\+QGMR$' }, bytes: `${'Z'.repeat(1_000_000)}\r\n` },
        ],
      },
    });
    try {
      expect(device.virtualModem?.faultsFired().map((f) => f.detail)).toEqual(['ATI', 'AT+QGMR']);
      expect(device.identity).toMatchObject({ manufacturer: 'Quectel', model: 'EC200U', reliable: true });
      expect(device.identity.firmware).toMatch(/^EC200UCNAAR03A03M08/);
      expect(device.identity.firmware.length).toBeLessThanOrEqual(64);
    } finally {
      await device.close();
    }
  }, 30_000);
});
