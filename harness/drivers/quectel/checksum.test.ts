import { describe, expect, it } from 'vitest';
import { qfuplChecksum } from './checksum.ts';

describe('qfuplChecksum', () => {
  it('XORs big-endian 16-bit words', () => {
    // 0x4142 ^ 0x4344 = 0x0206
    expect(qfuplChecksum(Buffer.from('ABCD'))).toBe('206');
  });

  it('pads an odd last byte as the high half of a word', () => {
    // 0x4142 ^ 0x4300 = 0x0242
    expect(qfuplChecksum(Buffer.from('ABC'))).toBe('242');
  });

  it('is 0 for nothing and for a word XORed with itself', () => {
    expect(qfuplChecksum(Buffer.alloc(0))).toBe('0');
    expect(qfuplChecksum(Buffer.from('abab'))).toBe('0');
  });
});
