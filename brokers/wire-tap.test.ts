import { describe, expect, it } from 'vitest';
import { newObservation } from './observation.ts';
import { encodeRecord, RecordSplitter, refragmentHandshake, WireTap } from './wire-tap.ts';

describe('record splitter', () => {
  it('yields whole records across chunk boundaries', () => {
    const a = encodeRecord(22, 0x0303, Buffer.alloc(10, 1));
    const b = encodeRecord(23, 0x0303, Buffer.alloc(3, 2));
    const bytes = Buffer.concat([a, b]);
    const s = new RecordSplitter();
    expect(s.push(bytes.subarray(0, 7))).toEqual([]);
    const got = s.push(bytes.subarray(7));
    expect(got.map((r) => [r.type, r.payload.length])).toEqual([
      [22, 10],
      [23, 3],
    ]);
  });
});

describe('handshake refragmentation', () => {
  it('cuts a plaintext handshake record into records of at most the fragment size, same bytes', () => {
    const payload = Buffer.from(Array.from({ length: 1300 }, (_, i) => i % 251));
    const pieces = refragmentHandshake({ type: 22, version: 0x0303, payload }, 512);
    const records = new RecordSplitter().push(Buffer.concat(pieces));
    expect(records.map((r) => r.payload.length)).toEqual([512, 512, 276]);
    expect(Buffer.concat(records.map((r) => r.payload))).toEqual(payload);
  });

  it('leaves other record types whole', () => {
    const payload = Buffer.alloc(2000);
    expect(refragmentHandshake({ type: 23, version: 0x0303, payload }, 512)).toHaveLength(1);
  });
});

describe('wire tap', () => {
  it('reads a plaintext alert from either side, and not an encrypted one', () => {
    const obs = newObservation(1, 'aedes', 'test');
    const tap = new WireTap(obs);
    tap.fromServer(encodeRecord(21, 0x0303, Buffer.from([2, 70])));
    tap.fromClient(encodeRecord(21, 0x0303, Buffer.alloc(26))); // encrypted: longer than two bytes
    expect(obs.serverAlert).toEqual({ number: 70, name: 'protocol_version' });
    expect(obs.serverAlertSource).toBe('wire');
    expect(obs.clientAlert).toBeNull();
    expect(obs.wire.fromServer).toEqual({ bytes: 7, records: 1, maxRecordLength: 2 });
  });

  it('prefers the wire over an inferred server alert', () => {
    const obs = newObservation(1, 'aedes', 'test');
    obs.serverAlert = { number: 40, name: 'handshake_failure' };
    obs.serverAlertSource = 'inferred';
    new WireTap(obs).fromServer(encodeRecord(21, 0x0303, Buffer.from([2, 70])));
    expect(obs.serverAlert?.number).toBe(70);
  });
});
