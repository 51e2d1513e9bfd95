/** Where the AT port is: a serial device path or a ser2net-style `tcp://host:port`. */
export type DeviceAddress =
  | {
      readonly kind: 'serial';
      readonly path: string;
      readonly baudRate: number;
      /** Hardware flow control; Quectel's UART and USB AT ports expect it (AT+IFC=2,2). */
      readonly rtscts?: boolean;
    }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/**
 * `tcp://host:port` (ser2net, socat) or a serial path: `/dev/ttyUSB2`, a stable
 * `/dev/serial/by-id/usb-Quectel_…-if02-port0` (tty numbers move after a module reset), `COM7`.
 */
export function parseDeviceAddress(text: string, baudRate = 115_200, rtscts = true): DeviceAddress {
  if (text.startsWith('tcp://')) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new Error(`--device ${text}: expected tcp://host:port`);
    }
    const port = Number(url.port);
    if (!url.hostname || !Number.isInteger(port) || port < 1 || url.pathname.replace('/', '') !== '') {
      throw new Error(`--device ${text}: expected tcp://host:port`);
    }
    return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port };
  }
  if (text.startsWith('/') || /^COM\d+$/i.test(text)) return { kind: 'serial', path: text, baudRate, rtscts };
  throw new Error(`--device ${text}: expected a serial device path (/dev/...) or tcp://host:port`);
}

export function describeAddress(address: DeviceAddress): string {
  return address.kind === 'tcp' ? `tcp://${address.host}:${address.port}` : address.path;
}
