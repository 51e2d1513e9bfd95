import { isIP } from 'node:net';
import { toolAvailable } from '../../harness/tools/find-tool.ts';
import { withTempFiles } from './anchors-file.ts';
import { type ControlRequest, type ControlResult, DEFAULT_CONTROL_TIMEOUT_MS } from './control.ts';
import { runClient } from './spawn-client.ts';

/** `Verify return code: 20 (unable to get local issuer certificate)` or `verify error:num=20:...`. */
function verifyReason(output: string): string | null {
  const codeLine = /Verify return code: (\d+) \(([^)]*)\)/.exec(output);
  if (codeLine && codeLine[1] !== '0') return `X509_V_ERR ${codeLine[1]}: ${codeLine[2]}`;
  const errorLine = /verify error:num=(\d+):([^\n]*)/.exec(output);
  if (errorLine) return `X509_V_ERR ${errorLine[1]}: ${errorLine[2]?.trim()}`;
  return null;
}

/**
 * `openssl s_client -verify_return_error`: fails the handshake on any verify error (sending an
 * alert), trusts only the given anchors (`-no-CApath -no-CAstore`), checks the dialled name.
 */
export async function opensslControl(req: ControlRequest): Promise<ControlResult> {
  if (!(await toolAvailable('openssl'))) {
    return { client: 'openssl', status: 'unavailable', reason: null, detail: 'openssl is not installed' };
  }
  const files: Record<string, string> = { 'anchors.pem': req.anchorsPem ?? '' };
  if (req.clientCert) {
    files['client.pem'] = req.clientCert.certPem;
    files['client.key'] = req.clientCert.keyPem;
  }
  return withTempFiles(files, async (paths) => {
    const args = [
      's_client',
      '-connect',
      `${req.connectHost}:${req.port}`,
      '-verify_return_error',
      '-no-CApath',
      '-no-CAstore',
      '-brief',
      isIP(req.dialledHost) ? '-verify_ip' : '-verify_hostname',
      req.dialledHost,
    ];
    if (req.anchorsPem !== null) args.push('-CAfile', paths['anchors.pem'] as string);
    else args.push('-no-CAfile');
    args.push(...(req.sni && !isIP(req.dialledHost) ? ['-servername', req.dialledHost] : ['-noservername']));
    args.push(...(req.opensslVerifyFlags ?? []));
    if (req.atTime) args.push('-attime', String(Math.floor(req.atTime.getTime() / 1000)));
    if (req.clientCert)
      args.push('-cert', paths['client.pem'] as string, '-key', paths['client.key'] as string);
    const run = await runClient('openssl', args, req.timeoutMs ?? DEFAULT_CONTROL_TIMEOUT_MS);
    if (run.timedOut) return { client: 'openssl', status: 'error', reason: null, detail: 'timed out' };
    const reason = verifyReason(run.output);
    const detail = run.output.trim().split('\n').slice(0, 6).join(' | ');
    if (run.exitCode === 0 && reason === null)
      return { client: 'openssl', status: 'accepted', reason: null, detail };
    return { client: 'openssl', status: 'rejected', reason: reason ?? `exit ${run.exitCode}`, detail };
  });
}
