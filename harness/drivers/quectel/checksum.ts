/**
 * The 16-bit XOR checksum Quectel reports after AT+QFUPL: XOR of big-endian 16-bit words; an odd
 * last byte is the high half of a word whose low half is 0. Printed as lower-case hex without
 * leading zeros, as in `+QFUPL: 1267,f5f`.
 */
export function qfuplChecksum(data: Uint8Array): string {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) {
    sum ^= ((data[i] ?? 0) << 8) | (data[i + 1] ?? 0);
  }
  return sum.toString(16);
}
