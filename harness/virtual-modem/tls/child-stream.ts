import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';

/**
 * The application-data side of a TLS client running as a child process: writes go to its stdin,
 * its stdout is what the server sent. Ends like a socket: when the child's stdout ends the stream
 * ends and closes; destroying the stream ends the child.
 */
export class ChildProcessStream extends Duplex {
  readonly #child: ChildProcessWithoutNullStreams;

  /**
   * `preambleEnd`: the child prints diagnostics on stdout before its data (gnutls-cli); bytes up to
   * and including this marker go to `onPreamble`, never to the data stream.
   */
  constructor(
    child: ChildProcessWithoutNullStreams,
    preambleEnd?: string,
    onPreamble?: (text: string) => void,
  ) {
    super({ allowHalfOpen: false });
    this.#child = child;
    let preamble = preambleEnd === undefined ? null : Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => {
      if (preamble === null) return void this.push(chunk);
      preamble = Buffer.concat([preamble, chunk]);
      const end = preamble.indexOf(preambleEnd as string);
      if (end < 0) return;
      const cut = end + Buffer.byteLength(preambleEnd as string);
      onPreamble?.(preamble.subarray(0, cut).toString('utf8'));
      const rest = preamble.subarray(cut);
      preamble = null;
      if (rest.length > 0) this.push(rest);
    });
    child.stdout.once('end', () => {
      if (preamble !== null) onPreamble?.(preamble.toString('utf8'));
      this.push(null);
    });
    child.stdin.on('error', () => {}); // EPIPE after the child left is reported through 'end'
    child.once('exit', () => this.push(null));
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#child.stdin.destroyed) return callback();
    this.#child.stdin.write(chunk, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#child.stdin.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#child.stdin.destroy();
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill();
    callback(error);
  }
}
