import type { Duplex } from 'node:stream';

/** The part of serialport's SerialPort this module uses; SerialPortMock has the same shape. */
export interface SerialPortLike extends Duplex {
  open(callback: (err: Error | null) => void): void;
}

export interface SerialOpenOptions {
  readonly path: string;
  readonly baudRate: number;
  readonly rtscts: boolean;
  /** Makes the port object; defaults to serialport's SerialPort, loaded only when a serial port is used. */
  readonly create?: (options: {
    path: string;
    baudRate: number;
    rtscts: boolean;
    autoOpen: false;
  }) => SerialPortLike;
}

/** Opens a local serial port; bounded so a port that never opens fails instead of hanging. */
export async function openSerial(options: SerialOpenOptions, timeoutMs: number): Promise<SerialPortLike> {
  const create = options.create ?? (await loadSerialPort());
  const port = create({
    path: options.path,
    baudRate: options.baudRate,
    rtscts: options.rtscts,
    autoOpen: false,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      port.destroy();
      reject(new Error(`${options.path}: did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    port.open((err) => {
      clearTimeout(timer);
      if (err) reject(new Error(`${options.path}: ${err.message}`));
      else resolve(port);
    });
  });
}

/** serialport's SerialPort, loaded on demand: the native binding is only needed when a real serial port is used. */
async function loadSerialPort(): Promise<NonNullable<SerialOpenOptions['create']>> {
  const { SerialPort } = await import('serialport');
  return (o) => new SerialPort(o);
}
