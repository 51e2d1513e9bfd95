import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { SerialPort, SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { AtEngine, dialectOptions } from '../at/engine.ts';
import { Transcript } from '../at/transcript.ts';
import { NRF91_SLM_AT } from '../drivers/nrf91-slm/at-dialect.ts';
import { QUECTEL_AT } from '../drivers/quectel/at-dialect.ts';
import { QuectelDriver } from '../drivers/quectel/driver.ts';
import { toolAvailable } from '../tools/find-tool.ts';
import { LOOPBACK_NETWORK } from '../virtual-modem/network.ts';
import { PERSONALITIES } from '../virtual-modem/personality.ts';
import { VirtualQuectelModem } from '../virtual-modem/quectel/modem.ts';
import { createMemoryPair } from './memory-pair.ts';
import { openTransport, parseDeviceAddress } from './open.ts';
import type { ReconnectingStream } from './reconnecting.ts';

const modemOn = (io: Duplex) =>
  new VirtualQuectelModem(io, { personality: PERSONALITIES.strict, network: LOOPBACK_NETWORK });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A loopback TCP port with a virtual modem behind each connection; `sockets` lists them. */
async function modemServer(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    modemOn(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { server, port: address.port, sockets };
}

const engineOn = (stream: Duplex) =>
  new AtEngine(stream, {
    transcript: new Transcript(),
    defaultTimeoutMs: 1_000,
    ...dialectOptions(QUECTEL_AT, NRF91_SLM_AT),
  });

describe('parseDeviceAddress', () => {
  it('reads tcp:// and serial paths, keeps by-id names whole, and refuses anything else clearly', () => {
    expect(parseDeviceAddress('tcp://127.0.0.1:4001')).toEqual({
      kind: 'tcp',
      host: '127.0.0.1',
      port: 4001,
    });
    expect(parseDeviceAddress('tcp://[::1]:4001')).toEqual({ kind: 'tcp', host: '::1', port: 4001 });
    const byId = '/dev/serial/by-id/usb-Quectel_EC200U-CN_0123-if02-port0';
    expect(parseDeviceAddress(byId, 921_600)).toEqual({
      kind: 'serial',
      path: byId,
      baudRate: 921_600,
      rtscts: true,
    });
    expect(parseDeviceAddress('/dev/ttyUSB2', 115_200, false)).toMatchObject({ rtscts: false });
    expect(() => parseDeviceAddress('tcp://host')).toThrow(/expected tcp:\/\/host:port/);
    expect(() => parseDeviceAddress('tcp://host:4001/x')).toThrow(/expected tcp:\/\/host:port/);
    expect(() => parseDeviceAddress('ttyUSB0')).toThrow(/serial device path/);
  });
});

describe('transports carry the AT dialect', () => {
  it('in-memory pair', async () => {
    const [host, device] = createMemoryPair();
    modemOn(device);
    await expect(engineOn(host).commandOk('AT+CGSN')).resolves.toMatchObject({ lines: ['866123456789012'] });
  });

  it('raw TCP on loopback (ser2net style)', async () => {
    const { port } = await modemServer();
    const stream = await openTransport(parseDeviceAddress(`tcp://127.0.0.1:${port}`));
    cleanups.push(() => void stream.destroy());
    const id = await new QuectelDriver(engineOn(stream)).identify();
    expect(id).toMatchObject({ manufacturer: 'Quectel', model: 'EC200U' });
  });

  it('an unreachable TCP port fails at once with the address in the error', async () => {
    const { server, port } = await modemServer();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(openTransport(parseDeviceAddress(`tcp://127.0.0.1:${port}`))).rejects.toThrow(
      new RegExp(`tcp://127.0.0.1:${port}: .*ECONNREFUSED`),
    );
  });

  it("SerialPortMock (serialport's own binding instance, not a second ESM copy)", async () => {
    const path = `/dev/TRUSTLAB_MOCK_${process.pid}`;
    SerialPortMock.binding.createPort(path, { echo: false, record: false });
    cleanups.push(() => SerialPortMock.binding.reset());
    const stream = await openTransport(
      { kind: 'serial', path, baudRate: 115_200 },
      { createSerialPort: (o) => new SerialPortMock(o) },
    );
    cleanups.push(() => void stream.destroy());
    // The virtual modem behind the mock port: what the host writes reaches it, its answers come back as port data.
    const binding = (stream as SerialPortMock).port;
    if (!binding) throw new Error('mock port not open');
    const [modemHost, modemSide] = createMemoryPair();
    modemOn(modemSide);
    modemHost.on('data', (chunk: Buffer) => binding.emitData(chunk));
    const write = binding.write.bind(binding);
    binding.write = async (buffer: Buffer) => {
      await write(buffer);
      modemHost.write(Buffer.from(buffer));
    };
    const id = await new QuectelDriver(engineOn(stream)).identify();
    expect(id.imei).toBe('866123456789012');
  });

  it('a real serial port through a socat pty pair, RTS/CTS on', async (ctx) => {
    if (!(await toolAvailable('socat', ['-V']))) ctx.skip('socat not installed');
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-pty-'));
    // -d -d: socat says when both ptys exist and it relays ("starting data transfer loop").
    const socat: ChildProcess = spawn('socat', [
      '-d',
      '-d',
      `pty,raw,echo=0,link=${join(dir, 'host')}`,
      `pty,raw,echo=0,link=${join(dir, 'modem')}`,
    ]);
    cleanups.push(() => {
      socat.kill();
      rmSync(dir, { recursive: true, force: true });
    });
    await new Promise<void>((resolve, reject) => {
      let said = '';
      const bound = setTimeout(() => reject(new Error(`socat did not start within 5 s: ${said}`)), 5_000);
      socat.stderr?.on('data', (b: Buffer) => {
        said += b.toString();
        if (!said.includes('starting data transfer loop')) return;
        clearTimeout(bound);
        resolve();
      });
      socat.once('exit', (code) => reject(new Error(`socat exited (${code}): ${said}`)));
    });
    expect(existsSync(join(dir, 'host')) && existsSync(join(dir, 'modem'))).toBe(true);
    const modemPort = new SerialPort({ path: join(dir, 'modem'), baudRate: 115_200 });
    await new Promise<void>((resolve, reject) => modemPort.once('open', resolve).once('error', reject));
    cleanups.push(() => void modemPort.destroy());
    modemOn(modemPort);
    const stream = await openTransport(parseDeviceAddress(join(dir, 'host'), 115_200, true));
    cleanups.push(() => void stream.destroy());
    const id = await new QuectelDriver(engineOn(stream)).identify();
    expect(id).toMatchObject({ model: 'EC200U', imei: '866123456789012' });
  });
});

describe('reconnect with back-off', () => {
  it('reopens a TCP port that dropped (module reset) and carries on; bytes written meanwhile are delivered', async () => {
    const { port, sockets } = await modemServer();
    const stream = (await openTransport(parseDeviceAddress(`tcp://127.0.0.1:${port}`), {
      reconnect: { initialDelayMs: 20, maxDelayMs: 100, giveUpAfterMs: 2_000 },
    })) as ReconnectingStream;
    cleanups.push(() => void stream.destroy());
    const events: string[] = [];
    stream.on('disconnected', (why: string) => events.push(`disconnected: ${why}`));
    stream.on('reconnected', () => events.push('reconnected'));
    const at = engineOn(stream);
    await at.commandOk('AT');
    const down = new Promise((resolve) => stream.once('disconnected', resolve));
    sockets[0]?.destroy(); // the port vanishes, as a USB tty does on AT+CFUN=1,1
    await down;
    // Sent while the link is down: held until the port is back, then answered by the new modem.
    await expect(at.commandOk('AT+CGSN', { timeoutMs: 2_000 })).resolves.toMatchObject({
      lines: ['866123456789012'],
    });
    expect(events[0]).toMatch(/^disconnected: /);
    expect(events).toContain('reconnected');
    expect(sockets).toHaveLength(2);
    await expect(at.waitForUrc(/^RDY$/, { timeoutMs: 500 })).resolves.toBe('RDY');
  });

  it('gives up after the bound when the port never comes back, and the AT engine sees the link closed', async () => {
    const { server, port, sockets } = await modemServer();
    const stream = await openTransport(parseDeviceAddress(`tcp://127.0.0.1:${port}`), {
      timeoutMs: 200,
      reconnect: { initialDelayMs: 20, maxDelayMs: 50, giveUpAfterMs: 300 },
    });
    const at = engineOn(stream);
    await at.commandOk('AT');
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
    const started = Date.now();
    await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(at.closed).toBe(true);
    await expect(at.command('AT')).rejects.toThrow(/link to the device is closed/);
  });
});
