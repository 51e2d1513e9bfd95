import { describe, expect, it } from 'vitest';
import type { DeviceIdentity } from '../harness/drivers/driver.ts';
import type { OpenDevice } from '../harness/runner/device.ts';
import { checkHealthAfterFault } from './health-check.ts';

const identity = (imei: string | null) => ({ model: 'M', firmware: 'F', imei }) as unknown as DeviceIdentity;
const deviceAnswering = (answer: () => Promise<DeviceIdentity>) =>
  ({ identity: identity('111'), driver: { identify: answer } }) as unknown as OpenDevice;

describe('the health check after a faulty case', () => {
  it('is healthy only when the module answers as itself', async () => {
    expect(await checkHealthAfterFault(deviceAnswering(async () => identity('111')))).toMatchObject({
      ok: true,
    });
    expect(await checkHealthAfterFault(deviceAnswering(async () => identity('222')))).toEqual({
      ok: false,
      detail: 'the port now answers IMEI 222, not 111',
    });
  });

  it('gives up, bounded, on a module that does not answer, and on one whose identification fails', async () => {
    const silent = deviceAnswering(() => new Promise<DeviceIdentity>(() => {}));
    expect(await checkHealthAfterFault(silent, 50)).toEqual({
      ok: false,
      detail: 'no identification within 50 ms',
    });
    const failing = deviceAnswering(async () => {
      throw new Error('AT timed out after 3000 ms');
    });
    expect(await checkHealthAfterFault(failing)).toEqual({ ok: false, detail: 'AT timed out after 3000 ms' });
  });
});
