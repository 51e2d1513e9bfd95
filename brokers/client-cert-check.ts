import { X509Certificate } from 'node:crypto';
import type tls from 'node:tls';
import { pemCertificates } from '../certs/pem.ts';
import type { ClientCertificateSeen } from './observation.ts';

/** Splits a PEM bundle into certificates; a bundle with none is a configuration error. */
export function certificatesIn(pem: string, what: string): X509Certificate[] {
  const blocks = pemCertificates(pem);
  if (blocks.length === 0) throw new Error(`${what}: no PEM certificate found`);
  return blocks.map((b) => new X509Certificate(b));
}

const oneLine = (name: string) => name.replaceAll('\n', ', ');

/** The chain a client presented, leaf first, as Node hands it over. */
function presentedChain(peer: tls.DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  let current: tls.DetailedPeerCertificate | undefined = peer;
  while (current?.raw && out.length < 10) {
    out.push(new X509Certificate(current.raw));
    if (current.issuerCertificate === current) break;
    current = current.issuerCertificate;
  }
  return out;
}

/**
 * Verifies a client certificate against the endpoint's client CA in JS. The Node engine gives
 * OpenSSL no `ca` store at all: with one, OpenSSL silently completes a leaf-only served chain
 * from it, and Node sends no alert for a bad client certificate anyway.
 */
export function checkClientCertificate(
  peer: tls.DetailedPeerCertificate | null,
  cas: readonly X509Certificate[],
  now = new Date(),
): ClientCertificateSeen | null {
  if (!peer?.raw) return null;
  const chain = presentedChain(peer);
  const leaf = chain[0];
  if (!leaf) return null;
  const seen = { subject: oneLine(leaf.subject), issuer: oneLine(leaf.issuer), sha256: leaf.fingerprint256 };
  const result = (verifyError: string | null): ClientCertificateSeen => ({
    ...seen,
    verified: verifyError === null,
    verifyError,
    source: 'tls-stack',
  });
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    if (now < new Date(current.validFrom)) return result(`certificate is not yet valid: ${current.subject}`);
    if (now > new Date(current.validTo)) return result(`certificate has expired: ${current.subject}`);
    const anchor = cas.find((ca) => current.checkIssued(ca) && current.verify(ca.publicKey));
    if (anchor) return result(null);
    const next = chain.find((c) => c !== current && current.checkIssued(c) && current.verify(c.publicKey));
    if (!next) return result('unable to get local issuer certificate');
    current = next;
  }
  return result('certificate chain too long');
}
