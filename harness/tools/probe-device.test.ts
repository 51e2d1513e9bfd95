import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { LOOPBACK_NETWORK } from '../virtual-modem/network.ts';
import { PERSONALITIES } from '../virtual-modem/personality.ts';
import { VirtualQuectelModem } from '../virtual-modem/quectel/modem.ts';
import { probeDevice } from './probe-device.ts';

describe('probe-device', () => {
  it('captures identity and test-command answers over tcp://, sending nothing that writes', async () => {
    const server = createServer((socket) => {
      new VirtualQuectelModem(socket, { personality: PERSONALITIES.strict, network: LOOPBACK_NETWORK });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      const { identity, transcript } = await probeDevice(
        { kind: 'tcp', host: '127.0.0.1', port: address.port },
        'quectel',
      );
      expect(identity).toMatchObject({ manufacturer: 'Quectel', model: 'EC200U', imei: '866123456789012' });
      expect(identity.capabilities?.['AT+QSSLCFG=?']?.some((l) => l.startsWith('+QSSLCFG: "sni"'))).toBe(
        true,
      );
      const sent = transcript
        .since(0)
        .filter((e) => e.dir === 'tx')
        .map((e) => e.data.trim());
      // Execution (ATI, AT+CGSN), read (?) and test (=?) forms only.
      for (const command of sent) expect(command).toMatch(/^AT([+#%][A-Z]+)?(\?|=\?|I)?$|^AT\+[A-Z]+$/);
    } finally {
      server.close();
    }
  });
});
