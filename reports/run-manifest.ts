import { closeSync, existsSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readContractFile } from './contract.ts';

export const RUN_MANIFEST_FILE = 'run.json';

export interface DeviceIdentityRecord {
  readonly manufacturer: string;
  readonly model: string;
  readonly firmware: string;
  readonly imei: string | null;
  /** False when the identity stayed garbled after a second query (fields `unknown`, answers in `raw`). */
  readonly reliable?: boolean;
  /** The identity answers, escaped, when they were unreliable. */
  readonly raw?: string;
}

/** What the device's TLS client could be told, and its settings as found (TlsCapabilities, for the record). */
export interface DeviceTlsRecord {
  readonly basis: readonly string[];
  readonly asFound: readonly { readonly name: string; readonly raw: string; readonly meaning: string }[];
}

/** One stretch of work on the run folder: the first run, then each resume. */
export interface RunSession {
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly pid: number;
  /** Cases this session executed on the device (not counting those replayed from the record). */
  readonly executed?: number;
}

/**
 * run.json: everything needed to know what a run was and to resume it. `device`, `identity`, `lab`
 * and `startedAt` keep the foundation's names; the rest was added by the reports work.
 */
export interface RunManifest {
  readonly schema: 1;
  /** Device label (serial path, tcp URL or `virtual:<personality>`). */
  readonly device?: string;
  /** What the device said about itself (ATI, AT+QGMR / AT+GMR, AT+GSN). */
  readonly identity?: DeviceIdentityRecord;
  /** Where the device's TLS capabilities came from and what it held before the first case. */
  readonly tls?: DeviceTlsRecord;
  readonly lab?: { readonly dialHost: string; readonly listenHost: string };
  readonly startedAt?: string;
  readonly endedAt?: string | null;
  readonly status?: 'running' | 'complete' | 'incomplete';
  readonly harness?: { readonly version: string; readonly commit: string | null; readonly dirty: boolean };
  /** Hash of the scenario catalogue the suite ran, so two runs can be known to test the same thing. */
  readonly catalogue?: { readonly revision: string; readonly cases: number };
  readonly broker?: { readonly kind: string; readonly listenHost: string; readonly node: string };
  /** The settings `trustlab run` was given; a resume reuses them. */
  readonly settings?: Readonly<Record<string, unknown>>;
  /** Case ids this run (or shard) set out to record, in execution order. */
  readonly plannedCases?: readonly string[];
  readonly sessions?: readonly RunSession[];
  /** For a merged run: the run folders it came from. */
  readonly mergedFrom?: readonly {
    readonly dir: string;
    readonly device?: string;
    readonly shard?: string;
  }[];
}

export function readRunManifest(outDir: string): RunManifest | null {
  const file = join(outDir, RUN_MANIFEST_FILE);
  if (!existsSync(file)) return null;
  return readContractFile(file, 'run-manifest') as RunManifest;
}

/** Writes run.json atomically (temporary file, fsync, rename): a kill leaves the old or the new one. */
export function writeRunManifest(outDir: string, manifest: RunManifest): void {
  const file = join(outDir, RUN_MANIFEST_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, `${JSON.stringify(manifest, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

export function updateRunManifest(
  outDir: string,
  change: (current: RunManifest) => RunManifest,
): RunManifest {
  const next = change(readRunManifest(outDir) ?? { schema: 1 });
  writeRunManifest(outDir, next);
  return next;
}

/**
 * Records the device the suite opened. A resumed run must be on the same model, firmware and IMEI
 * as the run it completes: a report mixing two firmwares would document neither.
 */
export function recordDeviceIdentity(
  outDir: string,
  device: {
    readonly label: string;
    readonly identity: DeviceIdentityRecord;
    readonly tls?: { readonly basis: readonly string[]; readonly asFound?: DeviceTlsRecord['asFound'] };
  },
  extra: Pick<RunManifest, 'catalogue' | 'plannedCases' | 'lab'>,
): RunManifest {
  return updateRunManifest(outDir, (current) => {
    const before = current.identity;
    if (before) {
      const differs = (['model', 'firmware', 'imei'] as const).filter(
        (k) => (before[k] ?? null) !== (device.identity[k] ?? null),
      );
      if (differs.length > 0) {
        throw new Error(
          `cannot resume ${outDir}: the device differs from the recorded one in ${differs
            .map((k) => `${k} (${before[k]} → ${device.identity[k]})`)
            .join(', ')}; start a new run instead`,
        );
      }
    }
    return {
      ...current,
      device: current.device ?? device.label,
      identity: before ?? device.identity,
      // The first session's reading: a resume finds the settings the harness itself may have left.
      ...(device.tls && !current.tls
        ? { tls: { basis: [...device.tls.basis], asFound: [...(device.tls.asFound ?? [])] } }
        : {}),
      ...(extra.lab ? { lab: current.lab ?? extra.lab } : {}),
      ...(extra.catalogue ? { catalogue: extra.catalogue } : {}),
      ...(extra.plannedCases ? { plannedCases: extra.plannedCases } : {}),
      startedAt: current.startedAt ?? new Date().toISOString(),
    };
  });
}
