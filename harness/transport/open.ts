import type { Duplex } from 'node:stream';
import { type DeviceAddress, describeAddress } from './address.ts';
import { ReconnectingStream, type ReconnectOptions } from './reconnecting.ts';
import { openSerial, type SerialOpenOptions } from './serial.ts';
import { openTcp } from './tcp.ts';

export { type DeviceAddress, parseDeviceAddress } from './address.ts';

export interface TransportOptions {
  /** Bound on each open attempt. */
  readonly timeoutMs?: number;
  /** Reopen the port when it vanishes (module reset, USB re-enumeration, ser2net restart); off when null. */
  readonly reconnect?: ReconnectOptions | null;
  /** Serial port factory (tests pass SerialPortMock); defaults to serialport's SerialPort. */
  readonly createSerialPort?: SerialOpenOptions['create'];
}

/** Opens one attempt at the port, without reconnection. */
export function openPort(address: DeviceAddress, options: TransportOptions = {}): Promise<Duplex> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  if (address.kind === 'tcp') return openTcp(address.host, address.port, timeoutMs);
  return openSerial(
    {
      path: address.path,
      baudRate: address.baudRate,
      rtscts: address.rtscts ?? true,
      ...(options.createSerialPort ? { create: options.createSerialPort } : {}),
    },
    timeoutMs,
  );
}

/**
 * Opens the byte stream to the device. With `reconnect`, the stream survives the port vanishing
 * and coming back (see ReconnectingStream); the first open is never retried, so a wrong path or an
 * unreachable host fails at once with a clear error.
 */
export async function openTransport(
  address: DeviceAddress,
  options: TransportOptions | number = {},
): Promise<Duplex> {
  // A bare number is the former `timeoutMs` argument.
  const opts: TransportOptions = typeof options === 'number' ? { timeoutMs: options } : options;
  if (!opts.reconnect) return openPort(address, opts);
  const stream = await ReconnectingStream.open(() => openPort(address, opts), opts.reconnect);
  // The AT engine listens for errors itself; this keeps a give-up without other listeners from crashing the process.
  stream.on('error', () => {});
  return stream;
}

export { describeAddress };
