import { isIP } from 'node:net';
import { toolAvailable } from '../../harness/tools/find-tool.ts';
import { withTempFiles } from './anchors-file.ts';
import { type ControlRequest, type ControlResult, DEFAULT_CONTROL_TIMEOUT_MS } from './control.ts';
import { runClient } from './spawn-client.ts';

/**
 * `gnutls-cli` with the anchors as its only CA file, verifying the dialled name. GnuTLS cannot be
 * given a device clock, so validity cases at another time are reported as unavailable.
 */
export async function gnutlsControl(req: ControlRequest): Promise<ControlResult> {
  if (!(await toolAvailable('gnutls-cli', ['--version']))) {
    return { client: 'gnutls', status: 'unavailable', reason: null, detail: 'gnutls-cli is not installed' };
  }
  if (req.atTime && Math.abs(req.atTime.getTime() - Date.now()) > 60_000) {
    return {
      client: 'gnutls',
      status: 'unavailable',
      reason: null,
      detail: 'gnutls-cli cannot verify at another time',
    };
  }
  if (req.anchorsPem === null) {
    return { client: 'gnutls', status: 'unavailable', reason: null, detail: 'gnutls-cli needs a CA file' };
  }
  const files: Record<string, string> = { 'anchors.pem': req.anchorsPem };
  if (req.clientCert) {
    files['client.pem'] = req.clientCert.certPem;
    files['client.key'] = req.clientCert.keyPem;
  }
  return withTempFiles(files, async (paths) => {
    const args = [
      '--x509cafile',
      paths['anchors.pem'] as string,
      '--port',
      String(req.port),
      '--verify-hostname',
      req.dialledHost,
    ];
    args.push(
      ...(req.sni && !isIP(req.dialledHost) ? ['--sni-hostname', req.dialledHost] : ['--disable-sni']),
    );
    if (req.clientCert) {
      args.push(
        '--x509certfile',
        paths['client.pem'] as string,
        '--x509keyfile',
        paths['client.key'] as string,
      );
    }
    args.push(req.connectHost);
    const run = await runClient('gnutls-cli', args, req.timeoutMs ?? DEFAULT_CONTROL_TIMEOUT_MS);
    if (run.timedOut) return { client: 'gnutls', status: 'error', reason: null, detail: 'timed out' };
    const status = /- Status: ([^\n]*)/.exec(run.output)?.[1]?.trim() ?? null;
    const detail = run.output
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('*') || l.startsWith('- Status'))
      .join(' | ');
    if (run.exitCode === 0) return { client: 'gnutls', status: 'accepted', reason: null, detail };
    return { client: 'gnutls', status: 'rejected', reason: status ?? `exit ${run.exitCode}`, detail };
  });
}
