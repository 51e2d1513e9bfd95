import type { OpenDevice } from '../harness/runner/device.ts';

/** What the health check after a faulty case found: the device answers as itself again, or not. */
export interface HealthCheck {
  readonly ok: boolean;
  readonly detail: string;
}

/** One line per check in the run folder: after which case, the fault, and whether the device recovered. */
export const HEALTH_CHECKS_FILE = 'health-checks.jsonl';

/** Bound on the whole check: identification has bounded waits of its own; this caps their sum. */
export const HEALTH_CHECK_MS = 90_000;

/**
 * After a case left the device faulty (it restarted, hung, or lost its port), ask it who it is:
 * healthy again only when it answers the identification with the IMEI the run opened it with.
 * A module that answers as another one, or not at all, stops the run (the rest is blocked).
 */
export async function checkHealthAfterFault(
  device: OpenDevice,
  timeoutMs = HEALTH_CHECK_MS,
): Promise<HealthCheck> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no identification within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const identity = await Promise.race([device.driver.identify(), timeout]);
    const expected = device.identity.imei;
    if (expected && identity.imei !== expected)
      return { ok: false, detail: `the port now answers IMEI ${identity.imei ?? 'none'}, not ${expected}` };
    return {
      ok: true,
      detail: `answers again as ${identity.model} ${identity.firmware}${identity.imei ? ` (IMEI matches)` : ''}`,
    };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
