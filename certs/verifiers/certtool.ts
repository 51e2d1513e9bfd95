import type { PkiHierarchy } from '../build.ts';
import type { CaseFiles } from '../files.ts';
import { runTool } from './run-tool.ts';

const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1';

export interface CerttoolResult {
  readonly verified: boolean;
  /** certtool's "Chain verification output:" line, which names the failure. */
  readonly status: string;
  readonly args: readonly string[];
  readonly output: string;
}

/**
 * GnuTLS `certtool --verify` of the served chain against the anchors, with the dialled name and
 * the TLS server purpose. certtool has no -attime: it uses the host clock.
 */
export async function certtoolVerify(h: PkiHierarchy, files: CaseFiles): Promise<CerttoolResult> {
  if (!files.anchors) throw new Error(`"${h.spec.name}" uploads no anchors; certtool --verify needs some`);
  const args = [
    '--verify',
    '--load-ca-certificate',
    files.anchors,
    '--infile',
    files.chain,
    `--verify-hostname=${h.spec.dialledHost}`,
    `--verify-purpose=${SERVER_AUTH_OID}`,
  ];
  const run = await runTool('certtool', args);
  const output = `${run.stdout}${run.stderr}`;
  const status = /Chain verification output: (.*)/.exec(output)?.[1]?.trim() ?? '';
  return { verified: status.startsWith('Verified.'), status, args, output };
}
