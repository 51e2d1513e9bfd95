import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { toolAvailable } from '../../tools/find-tool.ts';
import { writeAnchorsFile, writeClientCertFiles } from './anchors-file.ts';
import { opensslCipherList } from './cipher-names.ts';
import type { TlsEngine, TlsHandshakeRequest, TlsHandshakeResult } from './engine.ts';
import { runSubprocessHandshake } from './subprocess-handshake.ts';

/** `openssl s_client` as a subprocess: sends alerts on a failed verification, like OpenSSL does. */
export const opensslEngine: TlsEngine = {
  id: 'openssl',
  async available() {
    return (await toolAvailable('openssl')) ? { ok: true } : { ok: false, reason: 'openssl not installed' };
  },
  async handshake(req: TlsHandshakeRequest): Promise<TlsHandshakeResult> {
    const unsupported: string[] = [];
    if (req.ignoreChainAboveLeaf) unsupported.push('ignoreChainAboveLeaf');
    const anchors = await writeAnchorsFile(req.anchorsPem);
    const args = ['s_client', '-connect', `${req.address}:${req.port}`, '-brief', '-nocommands'];
    // Never the system store: the device trusts only what it was given.
    args.push('-no-CApath', '-no-CAstore', ...(anchors.path ? ['-CAfile', anchors.path] : ['-no-CAfile']));
    if (req.verify) args.push('-verify_return_error');
    const own = await writeClientCertFiles(anchors.dir, req.clientCert);
    if (own) args.push('-cert', own.cert, '-key', own.key);
    args.push(...(req.sni !== null ? ['-servername', req.sni] : ['-noservername']));
    if (req.verify && req.checkName !== null) {
      args.push(isIP(req.checkName) ? '-verify_ip' : '-verify_hostname', req.checkName);
    }
    // s_client writes the session only from a handshake it completed (verification failures abort it).
    if (req.sessionFile) {
      if (existsSync(req.sessionFile)) args.push('-sess_in', req.sessionFile);
      args.push('-sess_out', req.sessionFile);
    }
    if (req.deviceTime) args.push('-attime', String(Math.floor(req.deviceTime.getTime() / 1000)));
    if (req.ignoreValidity) args.push('-no_check_time');
    const ciphers = req.cipherSuites ? opensslCipherList(req.cipherSuites) : null;
    if (req.cipherSuites && !ciphers) unsupported.push('cipherSuites');
    const max = ciphers && req.versions.max === 'TLSv1.3' ? 'TLSv1.2' : req.versions.max;
    args.push('-min_protocol', req.versions.min, '-max_protocol', max);
    const lowSecurity = req.ignoreSignatureProfile || req.versions.min < 'TLSv1.2';
    if (ciphers) args.push('-cipher', ciphers);
    else if (lowSecurity) args.push('-cipher', 'DEFAULT:@SECLEVEL=0');
    try {
      return await runSubprocessHandshake({
        engine: 'openssl',
        command: 'openssl',
        args,
        unsupported,
        timeoutMs: req.timeoutMs,
        interpret(line, seen) {
          const suite = /^Ciphersuite: (\S+)/.exec(line);
          if (suite && seen.includes('CONNECTION ESTABLISHED')) {
            const version = seen.find((l) => l.startsWith('Protocol version: '))?.slice(18) ?? 'unknown';
            return { ok: true, version, cipher: suite[1] ?? '' };
          }
          if (/:error:/.test(line)) {
            const verify = seen.find((l) => l.startsWith('verify error:'));
            const connect =
              /connect|Connection refused/i.test(line) && !seen.some((l) => l.startsWith('depth='));
            return { ok: false, stage: connect ? 'connect' : 'handshake', reason: verify ?? line };
          }
          return null;
        },
        onEarlyExit: (seen) => ({
          stage: 'handshake',
          reason: seen.find((l) => l.startsWith('verify error:')) ?? seen.at(-1) ?? 'openssl exited',
        }),
      });
    } finally {
      await anchors.remove();
    }
  },
};
