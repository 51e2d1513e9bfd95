import { describe, expect, it } from 'vitest';
import { openDevice } from '../runner/device.ts';
import { atLineSpeed, DEFAULT_BAUD, serialTimeMs } from './line-speed.ts';
import { QUECTEL_TIMEOUTS } from './quectel/timeouts.ts';

describe('waits allow for the line speed', () => {
  it('stretches every bound by the longest answer’s time on the wire, never below the 115200 floor', () => {
    expect(atLineSpeed(QUECTEL_TIMEOUTS, DEFAULT_BAUD)).toEqual(QUECTEL_TIMEOUTS);
    expect(atLineSpeed(QUECTEL_TIMEOUTS, 921_600)).toEqual(QUECTEL_TIMEOUTS);
    const slow = atLineSpeed(QUECTEL_TIMEOUTS, 4_800, ['registrationPoll']);
    expect(slow.basic - QUECTEL_TIMEOUTS.basic).toBe(serialTimeMs(4_800) - serialTimeMs(DEFAULT_BAUD));
    expect(slow.registrationPoll).toBe(QUECTEL_TIMEOUTS.registrationPoll);
    expect(() => atLineSpeed(QUECTEL_TIMEOUTS, 0)).toThrow(/positive baud rate/);
  });

  it('a module on a 4800 baud line: its long test answers time out at the 115200 bounds, and arrive with --baud 4800', async () => {
    const open = (baud?: number) =>
      openDevice({
        driver: 'quectel',
        ...(baud ? { baud } : {}),
        virtualModem: { latency: { baudRate: 4_800 } },
      });
    // At 115200 bounds the device cannot even be identified: AT+QSSLCFG=? alone outlasts 1 s.
    await expect(open()).rejects.toThrow(/AT\+QSSLCFG=\?: no answer within 1000 ms/);
    const device = await open(4_800);
    try {
      expect(device.identity.reliable).toBe(true);
      expect(device.identity.capabilities?.['AT+QSSLCFG=?']?.length ?? 0).toBeGreaterThan(5);
    } finally {
      await device.close();
    }
  }, 120_000);
});
