import { toolAvailable } from '../../tools/find-tool.ts';
import { writeAnchorsFile, writeClientCertFiles } from './anchors-file.ts';
import type { TlsEngine, TlsHandshakeRequest, TlsHandshakeResult, TlsVersion } from './engine.ts';
import { runSubprocessHandshake } from './subprocess-handshake.ts';

const PRIORITY_VERSION: Record<TlsVersion, string> = {
  TLSv1: 'VERS-TLS1.0',
  'TLSv1.1': 'VERS-TLS1.1',
  'TLSv1.2': 'VERS-TLS1.2',
  'TLSv1.3': 'VERS-TLS1.3',
};
const ORDER: TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** `gnutls-cli` as a subprocess: GnuTLS sends bad_certificate (42) for every certificate problem. */
export const gnutlsEngine: TlsEngine = {
  id: 'gnutls',
  async available() {
    return (await toolAvailable('gnutls-cli', ['--version']))
      ? { ok: true }
      : { ok: false, reason: 'gnutls-cli not installed' };
  },
  async handshake(req: TlsHandshakeRequest): Promise<TlsHandshakeResult> {
    // gnutls-cli has no knob for these; the record lists them rather than pretending.
    const unsupported: string[] = [];
    if (req.ignoreChainAboveLeaf) unsupported.push('ignoreChainAboveLeaf');
    if (req.ignoreSignatureProfile) unsupported.push('ignoreSignatureProfile');
    if (req.ignoreValidity) unsupported.push('ignoreValidity');
    if (req.deviceTime) unsupported.push('deviceTime');
    if (req.cipherSuites) unsupported.push('cipherSuites');
    if (req.verify && req.checkName === null) unsupported.push('no name check');
    if (req.sessionFile)
      unsupported.push('sessionFile (gnutls-cli keeps no session from one run to the next)');
    const anchors = await writeAnchorsFile(req.anchorsPem ?? '');
    const versions = ORDER.slice(ORDER.indexOf(req.versions.min), ORDER.indexOf(req.versions.max) + 1);
    const args = ['--port', String(req.port)];
    args.push(`--priority=NORMAL:-VERS-ALL:${versions.map((v) => `+${PRIORITY_VERSION[v]}`).join(':')}`);
    if (anchors.path) args.push('--x509cafile', anchors.path);
    const own = await writeClientCertFiles(anchors.dir, req.clientCert);
    if (own) args.push('--x509certfile', own.cert, '--x509keyfile', own.key);
    args.push(...(req.sni !== null ? ['--sni-hostname', req.sni] : ['--disable-sni']));
    if (!req.verify) args.push('--insecure');
    else if (req.checkName !== null) args.push('--verify-hostname', req.checkName);
    args.push(req.address);
    try {
      return await runSubprocessHandshake({
        engine: 'gnutls',
        command: 'gnutls-cli',
        args,
        unsupported,
        timeoutMs: req.timeoutMs,
        // gnutls-cli prints its diagnostics on stdout, then the data after this line.
        stdoutPreambleEnd: '- Simple Client Mode:\n\n',
        interpret(line, seen) {
          if (line === '- Handshake was completed') {
            const d = seen.find((l) => l.startsWith('- Description: '))?.slice(15) ?? '';
            const parts = d.split(')-(').map((p) => p.replace(/[()]/g, ''));
            return {
              ok: true,
              version: parts[0]?.split('-')[0] ?? 'unknown',
              cipher: parts.slice(1).join('-'),
            };
          }
          // With --insecure gnutls-cli reports the failed verification and carries on.
          if (line.startsWith('*** ') && (req.verify || !line.includes('verification'))) {
            const status = seen
              .find((l) => l.startsWith('- Status: '))
              ?.slice(10)
              .trim();
            const connect = /Cannot connect|Connection refused/i.test(line);
            return { ok: false, stage: connect ? 'connect' : 'handshake', reason: status ?? line.slice(4) };
          }
          return null;
        },
        onEarlyExit: (seen) => ({ stage: 'handshake', reason: seen.at(-1) ?? 'gnutls-cli exited' }),
      });
    } finally {
      await anchors.remove();
    }
  },
};
