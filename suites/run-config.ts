import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabNetwork } from '../contracts/case.ts';
import type { DeviceOwnership } from '../harness/drivers/ownership.ts';
import { DEFAULT_FAMILY } from '../harness/families.ts';
import type { DriverFamily } from '../harness/runner/device.ts';
import type { PersonalityName } from '../harness/virtual-modem/personality.ts';
import type { TlsEngineId } from '../harness/virtual-modem/tls/engine.ts';
import { schemaChecker } from '../reports/contract.ts';
import type { Shard } from '../reports/shard.ts';

/** What a run is pointed at. The CLI passes it to the suite through the TRUSTLAB_RUN variable. */
export interface RunConfig {
  readonly device?: string;
  readonly driver: DriverFamily;
  /** Device resources the run may use instead of the driver's defaults (`--file-prefix`, `--sec-tags`…). */
  readonly owned?: DeviceOwnership;
  /** Virtual modem only; absent: the family's default personality. */
  readonly personality?: PersonalityName;
  /** Virtual modem only: the TLS stack its handshakes run on; absent: the personality's (auto). */
  readonly engine?: TlsEngineId;
  readonly outDir: string;
  readonly lab: LabNetwork;
  /** Run only this slice of the catalogue (`--shard i/n`); the sanity case runs in every shard. */
  readonly shard?: Shard;
  /** Pause before each case, so a real modem can release its sockets (`--settle`). */
  readonly settleMs?: number;
  /** Publish the current AT stage for the progress display (set by the CLI). */
  readonly progress?: boolean;
  /** Run the full matrix instead of the default one (`--full`). */
  readonly full?: boolean;
  /** Only these cases: exact case ids or globs with `*` (`--cases`). */
  readonly cases?: readonly string[];
  /** Probe well-known public TLS brokers with a wrong CA uploaded (`--public-probe`, real modems only). */
  readonly publicProbe?: boolean;
  /** Attempts for a case that fails before TLS (`--attempts`, default 3). */
  readonly attempts?: number;
  /** The AT line's speed (`--baud`, default 115200): the serial port's, and what every wait allows for. */
  readonly baud?: number;
  /** Configure every case from scratch and restore at its end (`--from-scratch`), instead of sending only what changed. */
  readonly fromScratch?: boolean;
}

export const RUN_CONFIG_VARIABLE = 'TRUSTLAB_RUN';

const runConfigProblem = schemaChecker(new URL('./run-config.schema.json', import.meta.url));

/**
 * The run the CLI asked for, checked against its schema (a hand-set or stale variable is an error
 * naming the field, never a run on a half-read config), or the default: the virtual modem, loopback,
 * a fresh temporary folder.
 */
export function runConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RunConfig {
  const given = env[RUN_CONFIG_VARIABLE];
  if (given) {
    let value: unknown;
    try {
      value = JSON.parse(given);
    } catch (error) {
      throw new Error(`${RUN_CONFIG_VARIABLE} is not JSON (${(error as Error).message})`);
    }
    const problem = runConfigProblem(value);
    if (problem) throw new Error(`${RUN_CONFIG_VARIABLE}: ${problem}`);
    return value as RunConfig;
  }
  return {
    driver: DEFAULT_FAMILY,
    outDir: mkdtempSync(join(tmpdir(), 'trustlab-run-')),
    lab: { dialHost: '127.0.0.1', listenHost: '127.0.0.1' },
  };
}
