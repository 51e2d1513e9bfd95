import { connect } from 'node:net';
import type { Duplex } from 'node:stream';

/** Where the AT port is: a serial device path or a ser2net-style `tcp://host:port`. */
export type DeviceAddress =
  | { readonly kind: 'serial'; readonly path: string; readonly baudRate: number }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

export function parseDeviceAddress(text: string, baudRate = 115_200): DeviceAddress {
  if (text.startsWith('tcp://')) {
    const url = new URL(text);
    const port = Number(url.port);
    if (!url.hostname || !Number.isInteger(port) || port < 1) {
      throw new Error(`--device ${text}: expected tcp://host:port`);
    }
    return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port };
  }
  if (text.startsWith('/') || /^COM\d+$/i.test(text)) return { kind: 'serial', path: text, baudRate };
  throw new Error(`--device ${text}: expected a serial device path (/dev/...) or tcp://host:port`);
}

/** Opens the byte stream to the device; bounded so an unreachable port fails instead of hanging. */
export async function openTransport(address: DeviceAddress, timeoutMs = 5_000): Promise<Duplex> {
  if (address.kind === 'tcp') {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address.host, port: address.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`tcp://${address.host}:${address.port}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`tcp://${address.host}:${address.port}: ${err.message}`));
      });
    });
  }
  // Loaded on demand: the native binding is only needed when a real serial port is used.
  const { SerialPort } = await import('serialport');
  return new Promise((resolve, reject) => {
    const port = new SerialPort({
      path: address.path,
      baudRate: address.baudRate,
      rtscts: true,
      autoOpen: false,
    });
    port.open((err) => (err ? reject(new Error(`${address.path}: ${err.message}`)) : resolve(port)));
  });
}
