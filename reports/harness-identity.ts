import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HarnessIdentity {
  readonly version: string;
  readonly commit: string | null;
  /** True when the working tree had uncommitted changes: the commit alone does not say what ran. */
  readonly dirty: boolean;
}

function git(root: string, args: readonly string[]): string | null {
  try {
    return execFileSync('git', ['-C', root, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    }).trim();
  } catch {
    return null; // not a git checkout (a packed release) or git absent
  }
}

/**
 * The harness version and commit, for run.json. Runs git synchronously: call it in the CLI process,
 * never in the process hosting the TLS endpoint.
 */
export function harnessIdentity(projectRoot: string): HarnessIdentity {
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version?: string };
  const commit = git(projectRoot, ['rev-parse', 'HEAD']);
  const status = commit ? git(projectRoot, ['status', '--porcelain', '--untracked-files=no']) : null;
  return { version: pkg.version ?? 'unknown', commit, dirty: Boolean(status) };
}
