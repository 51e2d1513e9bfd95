import { DEFAULT_NRF91_OWNERSHIP, type Nrf91Ownership } from '../drivers/nrf91-slm/driver.ts';
import { DEFAULT_QUECTEL_OWNERSHIP, type QuectelOwnership } from '../drivers/quectel/driver.ts';

/**
 * What the harness may touch on a device, as a lab declares it (inventory `owned:` or the `trustlab
 * run` flags): Quectel file prefix, SSL context and MQTT client; nRF91 sec_tag range. Anything not
 * given stays at the driver's default.
 */
export interface DeviceOwnership {
  readonly filePrefix?: string;
  readonly sslContext?: number;
  readonly mqttClient?: number;
  readonly secTags?: { readonly first: number; readonly count: number };
}

/** Quectel UFS names the harness creates: `<prefix><case>.pem`; short enough for the 80-byte name limit. */
const FILE_PREFIX = /^[A-Za-z0-9_.-]{3,32}$/;
/** AT+QSSLCFG contexts and AT+QMTCFG clients are 0–5 on every Quectel LTE module documented. */
const QUECTEL_INDEX = { min: 0, max: 5 } as const;
/** nRF91 sec_tags are 32-bit signed positive; one case uses one tag, a run at most a few. */
const SEC_TAG = { max: 2_147_483_647, maxCount: 256 } as const;

/** Why this ownership cannot be used, one line per problem (empty: usable). */
export function ownershipProblems(o: DeviceOwnership): string[] {
  const problems: string[] = [];
  if (o.filePrefix !== undefined && !FILE_PREFIX.test(o.filePrefix)) {
    problems.push('filePrefix: 3 to 32 letters, digits, dot, dash or underscore');
  }
  for (const key of ['sslContext', 'mqttClient'] as const) {
    const v = o[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= QUECTEL_INDEX.min && v <= QUECTEL_INDEX.max)) {
      problems.push(`${key}: a whole number from ${QUECTEL_INDEX.min} to ${QUECTEL_INDEX.max}`);
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

export function quectelOwnership(o: DeviceOwnership | undefined): QuectelOwnership {
  return {
    ...DEFAULT_QUECTEL_OWNERSHIP,
    ...(o?.filePrefix !== undefined ? { filePrefix: o.filePrefix } : {}),
    ...(o?.sslContext !== undefined ? { sslContext: o.sslContext } : {}),
    ...(o?.mqttClient !== undefined ? { mqttClient: o.mqttClient } : {}),
  };
}

export function nrf91Ownership(o: DeviceOwnership | undefined): Nrf91Ownership {
  return o?.secTags ? { secTags: o.secTags } : DEFAULT_NRF91_OWNERSHIP;
}
