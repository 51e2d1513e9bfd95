/**
 * What the harness may touch on a device, as a lab declares it (inventory `owned:` or the `trustlab
 * run` flags): a file-name prefix, an SSL context and an MQTT client index, a sec_tag range. Each
 * family says which of these it uses (`OWNERSHIP_FLAGS` below, its `ownershipKeys`); anything not
 * given stays at the driver's default.
 */
export interface DeviceOwnership {
  readonly filePrefix?: string;
  readonly sslContext?: number;
  readonly mqttClient?: number;
  readonly secTags?: { readonly first: number; readonly count: number };
}

export type OwnershipKey = keyof DeviceOwnership;

/** The `trustlab run` flag of each ownership key. */
export const OWNERSHIP_FLAGS: Readonly<Record<OwnershipKey, string>> = {
  filePrefix: '--file-prefix',
  sslContext: '--ssl-context',
  mqttClient: '--mqtt-client',
  secTags: '--sec-tags',
};

/** The keys given that a family with these keys does not use. */
export function foreignOwnershipKeys(o: DeviceOwnership, keys: readonly OwnershipKey[]): OwnershipKey[] {
  return (Object.keys(o) as OwnershipKey[]).filter((k) => o[k] !== undefined && !keys.includes(k));
}

/** Module file names the harness creates: `<prefix><case>.pem`; short enough for an 80-byte name limit. */
const FILE_PREFIX = /^[A-Za-z0-9_.-]{3,32}$/;
/** The index ranges a family's SSL contexts and MQTT clients have (its `indexRanges`). */
export type IndexRanges = Readonly<
  Record<'sslContext' | 'mqttClient', { readonly min: number; readonly max: number }>
>;

/** Quectel's: SSL contexts and MQTT client indexes 0–5 on every module documented. */
export const SIX_INDEXES: IndexRanges = { sslContext: { min: 0, max: 5 }, mqttClient: { min: 0, max: 5 } };
/** sec_tags are 32-bit signed positive; one case uses one tag, a run at most a few. */
const SEC_TAG = { max: 2_147_483_647, maxCount: 256 } as const;

/** Why this ownership cannot be used, one line per problem (empty: usable). */
export function ownershipProblems(o: DeviceOwnership, ranges: IndexRanges = SIX_INDEXES): string[] {
  const problems: string[] = [];
  if (o.filePrefix !== undefined && !FILE_PREFIX.test(o.filePrefix)) {
    problems.push('filePrefix: 3 to 32 letters, digits, dot, dash or underscore');
  }
  for (const key of ['sslContext', 'mqttClient'] as const) {
    const v = o[key];
    const { min, max } = ranges[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max)) {
      problems.push(`${key}: a whole number from ${min} to ${max}`);
    }
  }
  if (o.secTags) {
    const { first, count } = o.secTags;
    if (!(Number.isInteger(first) && first >= 0 && first <= SEC_TAG.max)) {
      problems.push(`secTags.first: a whole number from 0 to ${SEC_TAG.max}`);
    }
    if (!(Number.isInteger(count) && count >= 1 && count <= SEC_TAG.maxCount)) {
      problems.push(`secTags.count: a whole number from 1 to ${SEC_TAG.maxCount}`);
    } else if (first + count - 1 > SEC_TAG.max) {
      problems.push(`secTags: the range ends past ${SEC_TAG.max}`);
    }
  }
  return problems;
}

/** `--sec-tags` value: `<first>+<count>`, the form the inventory and reports print. */
export function parseSecTags(text: string): { first: number; count: number } | null {
  const m = /^(\d{1,10})\+(\d{1,3})$/.exec(text.trim());
  return m ? { first: Number(m[1]), count: Number(m[2]) } : null;
}

export const formatSecTags = (t: { first: number; count: number }): string => `${t.first}+${t.count}`;

/** `trustlab run` flags that hand this ownership to a child run. */
export function ownershipArguments(o: DeviceOwnership | undefined): string[] {
  if (!o) return [];
  return [
    ...(o.filePrefix !== undefined ? ['--file-prefix', o.filePrefix] : []),
    ...(o.sslContext !== undefined ? ['--ssl-context', String(o.sslContext)] : []),
    ...(o.mqttClient !== undefined ? ['--mqtt-client', String(o.mqttClient)] : []),
    ...(o.secTags ? ['--sec-tags', formatSecTags(o.secTags)] : []),
  ];
}
