import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import tls from 'node:tls';
import { pemCertificates } from '../../../certs/pem.ts';
import { opensslCipherList } from './cipher-names.ts';
import type { TlsEngine, TlsHandshakeRequest, TlsHandshakeResult, TlsVersion } from './engine.ts';

const TIME_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** The device clock's verdict on one certificate, or null when it is valid then. */
function timeProblem(x: X509Certificate, at: Date): string | null {
  if (new Date(x.validTo) < at)
    return `certificate ${x.subject.replaceAll('\n', ', ')} expired at device time`;
  if (new Date(x.validFrom) > at)
    return `certificate ${x.subject.replaceAll('\n', ', ')} not yet valid at device time`;
  return null;
}

/**
 * Validity of the path to a trust anchor, judged against the device's clock. Node links each
 * served certificate to a served issuer by name, so the walk stops at the first certificate an
 * anchor issued (OpenSSL's trusted-first): a served copy of a root that lies off the path (an
 * expired cross-sign beside the valid path) is not judged.
 */
function validityProblem(socket: tls.TLSSocket, at: Date, anchorsPem: string | null): string | null {
  const anchors = anchorsPem ? pemCertificates(anchorsPem).map((pem) => new X509Certificate(pem)) : [];
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    const x = new X509Certificate(cert.raw);
    const problem = timeProblem(x, at);
    if (problem) return problem;
    const anchor = anchors.find((a) => x.checkIssued(a) && x.verify(a.publicKey));
    if (anchor) return timeProblem(anchor, at);
    cert = cert.issuerCertificate;
  }
  return null;
}

/**
 * Node `tls` in-process. It verifies after the handshake and closes without an alert, so the
 * server sees a completed handshake followed by a close — unlike a modem's stack.
 */
export const nodeEngine: TlsEngine = {
  id: 'node',
  available: async () => ({ ok: true }),
  handshake(req: TlsHandshakeRequest): Promise<TlsHandshakeResult> {
    const unsupported: string[] = [];
    if (req.ignoreChainAboveLeaf) unsupported.push('ignoreChainAboveLeaf');
    if (req.ignoreSignatureProfile) unsupported.push('ignoreSignatureProfile');
    const ciphers = req.cipherSuites ? opensslCipherList(req.cipherSuites) : null;
    if (req.cipherSuites && !ciphers) unsupported.push('cipherSuites');
    // The named suites are TLS ≤ 1.2 suites: offering TLS 1.3 would bypass the choice.
    const max: TlsVersion = ciphers && req.versions.max === 'TLSv1.3' ? 'TLSv1.2' : req.versions.max;
    return new Promise((resolve) => {
      const fail = (stage: 'connect' | 'handshake' | 'timeout', reason: string) => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ ok: false, engine: 'node', stage, reason, unsupported });
      };
      const saved = req.sessionFile && existsSync(req.sessionFile) ? readFileSync(req.sessionFile) : null;
      let accepted = false;
      let latest: Buffer | null = null;
      // A session is kept only from a handshake the device accepted: one it refused is never resumed.
      const keep = (session: Buffer | null) => {
        if (req.sessionFile && session && accepted) writeFileSync(req.sessionFile, session);
      };
      const socket = tls.connect({
        host: req.address,
        port: req.port,
        // An empty list, never Node's built-in store: the device trusts what it was given.
        ca: req.anchorsPem === null ? [] : [req.anchorsPem],
        servername: req.sni ?? '',
        rejectUnauthorized: false,
        minVersion: req.versions.min,
        maxVersion: max,
        ...(ciphers ? { ciphers } : req.versions.min < 'TLSv1.2' ? { ciphers: 'DEFAULT:@SECLEVEL=0' } : {}),
        checkServerIdentity: () => undefined,
        ...(req.clientCert ? { cert: req.clientCert.certPem, key: req.clientCert.keyPem } : {}),
        ...(saved ? { session: saved } : {}),
      });
      socket.on('session', (session: Buffer) => {
        latest = session;
        keep(session);
      });
      const timer = setTimeout(
        () => fail('timeout', `no handshake within ${req.timeoutMs} ms`),
        req.timeoutMs,
      );
      socket.once('error', (err) => fail(socket.connecting ? 'connect' : 'handshake', err.message));
      socket.once('secureConnect', () => {
        let problem: string | null = null;
        // A resumed session was verified when it was made; no certificate comes with it (as in every TLS client).
        if (req.verify && !socket.isSessionReused()) {
          const code = socket.authorizationError as unknown as string | null;
          const timeJudgedHere = req.ignoreValidity || req.deviceTime !== null;
          if (code && !(timeJudgedHere && TIME_ERRORS.has(code))) problem = code;
          if (!problem && req.deviceTime && !req.ignoreValidity)
            problem = validityProblem(socket, req.deviceTime, req.anchorsPem);
          if (!problem && req.checkName !== null) {
            problem = tls.checkServerIdentity(req.checkName, socket.getPeerCertificate())?.message ?? null;
          }
        }
        if (problem) return fail('handshake', problem);
        accepted = true;
        keep(latest);
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve({
          ok: true,
          engine: 'node',
          stream: socket,
          version: socket.getProtocol() ?? 'unknown',
          cipher: socket.getCipher().standardName ?? socket.getCipher().name,
          unsupported,
        });
      });
    });
  },
};
