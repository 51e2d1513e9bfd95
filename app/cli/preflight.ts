import { existsSync, mkdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { defaultMatrix, fullMatrix } from '../../suites/matrix.ts';
import { selectRotation, splitCasePatterns } from '../../suites/rotation.ts';
import { selectCases } from '../../suites/select-cases.ts';
import { selectSessions } from '../../suites/sessions.ts';

/** A check the user can act on: one line saying what is wrong and how to fix it. */
export class PreflightError extends Error {}

/** How long a `tcp://` device is given to accept a connection before the run is refused. */
const REACH_TIMEOUT_MS = 1_500;

/** `tcp://host:port` parsed, or a PreflightError naming what is malformed. */
export function parseTcpDevice(address: string): { host: string; port: number } {
  const match = /^tcp:\/\/(\[[^\]]+\]|[^:/\s]+):(\d{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new PreflightError(
      `--device ${address}: a TCP device is tcp://host:port with a port from 1 to 65535 (e.g. tcp://127.0.0.1:5555)`,
    );
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

/** Whether something accepts a TCP connection there, within the bound. */
function accepts(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (problem: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => done(`no answer within ${REACH_TIMEOUT_MS} ms`), REACH_TIMEOUT_MS);
    socket.once('connect', () => done(null));
    socket.once('error', (e: NodeJS.ErrnoException) =>
      done(e.code === 'ECONNREFUSED' ? 'nothing listens there' : (e.code ?? e.message)),
    );
  });
}

/**
 * The device address before anything runs: `tcp://` well formed and accepting connections (the
 * probe connection is closed at once), a serial path present. A serial port that vanishes during
 * a run is the transport's to handle; this only catches a wrong path.
 */
export async function checkDevice(device: string): Promise<void> {
  if (device.startsWith('tcp://')) {
    const { host, port } = parseTcpDevice(device);
    const problem = await accepts(host, port);
    if (problem) {
      throw new PreflightError(
        `--device ${device}: ${problem}; check that ser2net (or trustlab sim) is running and the address is right`,
      );
    }
    return;
  }
  if (/^[a-z]+:\/\//i.test(device)) {
    throw new PreflightError(`--device ${device}: expected a serial path (/dev/ttyUSB2) or tcp://host:port`);
  }
  if (!existsSync(device)) {
    throw new PreflightError(
      `--device ${device}: no such serial device; list ports with ls /dev/serial/by-id/ or use tcp://host:port`,
    );
  }
}

/** `--cases` as patterns: empty pieces dropped; none left, or a pattern that matches nothing, is refused. */
export function checkCases(given: string, full: boolean): string[] {
  const patterns = given
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (patterns.length === 0) {
    throw new PreflightError(
      `--cases "${given}" names no case; give case ids or globs, e.g. --cases 'names::*'`,
    );
  }
  const split = splitCasePatterns(patterns);
  try {
    selectCases(full ? fullMatrix() : defaultMatrix(), split.matrix);
    selectRotation(split.rotation);
    selectSessions(split.sessions);
  } catch (error) {
    const hint = full ? '' : ' (without --full; some cases exist only in the full matrix)';
    throw new PreflightError(`${(error as Error).message}${hint}`);
  }
  return patterns;
}

/** The output folder can be created (not below a regular file, not a file itself). */
export function checkOutDir(outDir: string): void {
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) {
    throw new PreflightError(`--out ${outDir}: is a file, not a folder; choose another --out`);
  }
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOTDIR' || code === 'EEXIST' ? `a folder above it is a file` : String(code);
    throw new PreflightError(`--out ${outDir}: cannot create the folder (${why}); choose another --out`);
  }
}
