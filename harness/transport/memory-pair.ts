import { Duplex } from 'node:stream';

class PairEnd extends Duplex {
  peer: PairEnd | null = null;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Copy: the writer may reuse its buffer after the callback.
    this.peer?.push(Buffer.from(chunk));
    callback();
  }

  override _read(): void {}

  override _final(callback: (error?: Error | null) => void): void {
    this.peer?.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.peer && !this.peer.destroyed) this.peer.push(null);
    callback(error);
  }
}

/** Two connected byte streams: what one end writes, the other reads. For tests and the built-in modem. */
export function createMemoryPair(): [Duplex, Duplex] {
  const a = new PairEnd();
  const b = new PairEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
