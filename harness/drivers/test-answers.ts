/**
 * Test-command (`=?`) answers, the one source every driver learns a module's vocabulary from:
 * captured once per device, verbatim, and read in the 27.007 shapes `+<CMD>: "<key>",(range),(values)`.
 */

/** Test-command answers of one device, verbatim: `AT+QSSLCFG=?` → its lines; null when it was refused. */
export type CapabilityDump = Readonly<Record<string, readonly string[] | null>>;

/** Keys a `+<CMD>: "<key>",…` test answer lists, in order; null when the device did not answer the probe. */
export function listedKeys(dump: CapabilityDump, probe: string): string[] | null {
  const lines = dump[probe];
  if (!lines) return null;
  const keys = lines.map((l) => /^\+[A-Z]+: "([^"]+)"/i.exec(l)?.[1]).filter((k): k is string => !!k);
  return keys.length > 0 ? keys : null;
}

/** The values one parenthesised group lists: `(0-4)` → 0…4, `(0,1)`, `(0X0035,0XFFFF)`; null for anything else. */
export function valueList(group: string | undefined): string[] | null {
  const inner = group && /^\((.*)\)$/.exec(group.trim())?.[1];
  if (!inner) return null;
  const range = /^(\d+)-(\d+)$/.exec(inner);
  if (range) {
    const [lo, hi] = [Number(range[1]), Number(range[2])];
    return hi - lo > 4096 ? null : Array.from({ length: hi - lo + 1 }, (_, i) => String(lo + i));
  }
  return inner.split(',').map((v) => v.trim());
}

/** The parenthesised groups of one test-answer line after its `+<CMD>: ` head, in order. */
export function valueGroups(line: string): string[] {
  return line.replace(/^\+[A-Z]+:\s*/i, '').split(/,(?=\()/);
}
