import { afterEach, describe, expect, it } from 'vitest';
import { AtEngine, dialectOptions } from '../../harness/at/engine.ts';
import { Transcript } from '../../harness/at/transcript.ts';
import { QUECTEL_AT } from '../../harness/drivers/quectel/at-dialect.ts';
import { QuectelDriver } from '../../harness/drivers/quectel/driver.ts';
import { openTransport } from '../../harness/transport/open.ts';
import { type SimServer, startSimServer } from './sim-command.ts';

let sim: SimServer | null = null;
afterEach(async () => {
  await sim?.stop();
  sim = null;
});

describe('trustlab sim', () => {
  it('serves the virtual modem over TCP; the harness identifies it with the configured model', async () => {
    sim = await startSimServer({
      listen: 'tcp://127.0.0.1:0',
      profile: 'mbedtls-2.28',
      family: 'quectel',
      model: 'EC800N',
      firmware: 'EC800NCNLAR01A05M16',
    });
    const stream = await openTransport({ kind: 'tcp', host: '127.0.0.1', port: sim.port });
    const driver = new QuectelDriver(new AtEngine(stream, { transcript: new Transcript() }));
    const id = await driver.identify();
    expect(id.model).toBe('EC800N');
    expect(id.firmware).toContain('EC800NCNLAR01A05M16');
    stream.destroy();
  });

  it('keeps one modem across connections (files survive) and refuses a second client meanwhile', async () => {
    sim = await startSimServer({ listen: 'tcp://127.0.0.1:0', profile: 'strict', family: 'quectel' });
    const first = await openTransport({ kind: 'tcp', host: '127.0.0.1', port: sim.port });
    const at = new AtEngine(first, { transcript: new Transcript(), ...dialectOptions(QUECTEL_AT) });
    await at.commandWithData('AT+QFUPL="UFS:kept.pem",4,5', Buffer.from('abcd'), {
      prompt: 'CONNECT',
      timeoutMs: 2_000,
    });
    const second = await openTransport({ kind: 'tcp', host: '127.0.0.1', port: sim.port });
    const refused = await new Promise<string>((resolve) => {
      let text = '';
      second.on('data', (c: Buffer) => (text += c.toString()));
      second.on('close', () => resolve(text));
    });
    expect(refused).toContain('busy');
    first.destroy();
    await sim.free();
    const again = await openTransport({ kind: 'tcp', host: '127.0.0.1', port: sim.port });
    const at2 = new AtEngine(again, { transcript: new Transcript(), ...dialectOptions(QUECTEL_AT) });
    expect((await at2.commandOk('AT+QFLST="*"')).lines).toEqual(['+QFLST: "UFS:kept.pem",4']);
    again.destroy();
  });

  it('refuses a non-loopback listen address unless told otherwise', async () => {
    await expect(
      startSimServer({ listen: 'tcp://0.0.0.0:0', profile: 'strict', family: 'quectel' }),
    ).rejects.toThrow(/not a loopback address/);
    await expect(startSimServer({ listen: 'udp://x', profile: 'strict', family: 'quectel' })).rejects.toThrow(
      /expected tcp/,
    );
  });
});
