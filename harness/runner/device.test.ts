import { describe, expect, it } from 'vitest';
import { DRIVER_FAMILIES, openDevice } from './device.ts';
import { runCase } from './run-case.ts';

describe('openDevice picks the driver and the built-in modem of the family', () => {
  it('lists both families for the CLI', () => {
    expect(DRIVER_FAMILIES).toEqual(['quectel', 'nrf91-slm']);
  });

  it('nrf91-slm without --device: the virtual nRF9160 + SLM, driven end to end by the SLM driver', async () => {
    const device = await openDevice({
      driver: 'nrf91-slm',
      network: { hosts: { 'broker.trustlab.test': '127.0.0.1' } },
    });
    try {
      expect(device.identity).toMatchObject({
        manufacturer: 'Nordic Semiconductor ASA',
        model: 'nRF9160-SICA',
      });
      expect(device.driver.family).toBe('nrf91-slm');
      const run = await runCase(
        device,
        {
          id: 'anchors::right-ca',
          certs: { keyType: 'p256', anchor: 'issuing-root' },
          settings: { seclevel: 1, sslversion: 3, sni: 1 },
        },
        { dialHost: 'broker.trustlab.test', listenHost: '127.0.0.1' },
      );
      expect(run.outcome, run.reason).toBe('accepted');
    } finally {
      await device.close();
    }
  });

  it('an unreachable tcp:// device fails at once with its address', async () => {
    await expect(openDevice({ driver: 'quectel', device: 'tcp://127.0.0.1:1' })).rejects.toThrow(
      /tcp:\/\/127.0.0.1:1/,
    );
  });
});
