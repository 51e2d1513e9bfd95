import { isIP } from 'node:net';
import type { PkiHierarchy } from '../build.ts';
import { type OpensslExpectation, X509_V_ERR } from '../catalogue/types.ts';
import type { CaseFiles } from '../files.ts';
import { runTool } from './run-tool.ts';

export interface OpensslVerifyResult {
  readonly ok: boolean;
  /**
   * Every X509_V_ERR OpenSSL reported, in order: `openssl verify` goes on after most errors, so
   * one defect can surface as several (e.g. INVALID_CA, then KEYUSAGE_NO_CERTSIGN).
   */
  readonly errors: readonly { readonly code: number; readonly depth: number; readonly text: string }[];
  readonly args: readonly string[];
  readonly output: string;
}

/**
 * The full `openssl verify` command line for one expectation: the policy flags it records, plus
 * the inputs the hierarchy defines. Never the system trust store.
 */
export function opensslVerifyArgs(
  h: PkiHierarchy,
  files: CaseFiles,
  expectation: OpensslExpectation,
): string[] {
  const args = ['verify', '-no-CApath', '-no-CAstore', ...expectation.flags];
  args.push('-attime', String(Math.floor(h.clock.getTime() / 1000)));
  if (expectation.target === 'server') {
    args.push(...(files.anchors ? ['-CAfile', files.anchors] : ['-no-CAfile']));
    if (files.untrusted) args.push('-untrusted', files.untrusted);
    const host = h.spec.dialledHost;
    args.push(isIP(host) ? '-verify_ip' : '-verify_hostname', host);
    args.push(files.leaf);
  } else {
    if (!files.clientAnchors || !files.clientCert || !files.clientChain) {
      throw new Error(`"${h.spec.name}" has no client certificate to verify`);
    }
    args.push('-CAfile', files.clientAnchors, '-untrusted', files.clientChain, files.clientCert);
  }
  return args;
}

/** `openssl x509 -ext <name>` of the served leaf: what OpenSSL parses out of it, as text. */
export async function opensslInspectLeaf(files: CaseFiles, extension: string): Promise<string> {
  const run = await runTool('openssl', ['x509', '-in', files.leaf, '-noout', '-ext', extension]);
  if (run.code !== 0) throw new Error(`openssl x509 -ext ${extension} failed: ${run.stderr}`);
  return run.stdout;
}

/** Runs `openssl verify` (asynchronously) and reads the errors it reports. */

/** Whether a run says what the expectation says: OK, or the named error at the named depth. */
export function matchesVerdict(result: OpensslVerifyResult, expectation: OpensslExpectation): boolean {
  const v = expectation.verdict;
  if (v.ok) return result.ok;
  return !result.ok && result.errors.some((e) => e.code === X509_V_ERR[v.error] && e.depth === v.depth);
}
export async function opensslVerify(
  h: PkiHierarchy,
  files: CaseFiles,
  expectation: OpensslExpectation,
): Promise<OpensslVerifyResult> {
  const args = opensslVerifyArgs(h, files, expectation);
  const run = await runTool('openssl', args);
  const output = `${run.stdout}${run.stderr}`;
  const errors = [...output.matchAll(/error (\d+) at (\d+) depth lookup: ?(.*)/g)].map((m) => ({
    code: Number(m[1]),
    depth: Number(m[2]),
    text: m[3] ?? '',
  }));
  return {
    ok: run.code === 0 && errors.length === 0 && /: OK\s*$/m.test(run.stdout),
    errors,
    args,
    output,
  };
}
