import { X509Certificate } from 'node:crypto';
import type { ClientHelloSummary } from '../brokers/client-hello.ts';
import { pemCertificates } from '../certs/pem.ts';

/** The server certificate's key as the TLS layer needs it: its type and, for EC, its curve. */
export interface ServerKey {
  readonly type: string;
  readonly curve: string | null;
  readonly label: string;
}

/** The served leaf's key (the first certificate of the served chain); null when it cannot be read. */
export function serverKeyOf(servedChainPem: string): ServerKey | null {
  const leaf = pemCertificates(servedChainPem)[0];
  if (!leaf) return null;
  try {
    const key = new X509Certificate(leaf).publicKey;
    const type = key.asymmetricKeyType ?? 'unknown';
    const curve = key.asymmetricKeyDetails?.namedCurve ?? null;
    const bits = key.asymmetricKeyDetails?.modulusLength;
    const label = type === 'rsa' ? `RSA-${bits}` : curve ? `ECDSA ${curve}` : type;
    return { type, curve, label };
  } catch {
    return null;
  }
}

interface Need {
  readonly what: string;
  offered(hello: ClientHelloSummary): boolean;
}

/**
 * What a ClientHello must carry for a server to sign with a key: in TLS 1.3 the signature scheme
 * (RFC 8446 §4.2.3), in TLS 1.2 the curve in supported_groups (RFC 8422 §5.1.1) or EdDSA's scheme.
 */
function needOf(key: ServerKey): Need | null {
  if (key.type === 'ed25519')
    return {
      what: 'the ed25519 signature scheme (0x0807)',
      offered: (h) => h.signatureAlgorithms.includes(0x0807),
    };
  const curves: Record<string, readonly [group: number, scheme: number, name: string]> = {
    prime256v1: [23, 0x0403, 'secp256r1'],
    secp384r1: [24, 0x0503, 'secp384r1'],
    secp521r1: [25, 0x0603, 'secp521r1'],
  };
  const c = key.type === 'ec' && key.curve ? curves[key.curve] : undefined;
  if (!c) return null;
  const [group, scheme, name] = c;
  return {
    what: `the ${name} curve (group ${group}, or scheme 0x${scheme.toString(16).padStart(4, '0')})`,
    offered: (h) => h.supportedGroups.includes(group) || h.signatureAlgorithms.includes(scheme),
  };
}

const hex = (list: readonly number[]) => list.map((n) => `0x${n.toString(16).padStart(4, '0')}`).join(' ');

/**
 * Why a server could not sign for this device, read from the device's own ClientHello: the key
 * needs something the device did not offer. Null when it was offered (or the key needs nothing).
 */
export function unofferedKeyNeed(hello: ClientHelloSummary, key: ServerKey): string | null {
  const need = needOf(key);
  if (!need || need.offered(hello)) return null;
  return `the device does not offer ${need.what} that a server with an ${key.label} certificate needs (signature_algorithms: ${hex(hello.signatureAlgorithms) || 'none'}; supported_groups: ${hello.supportedGroups.join(' ') || 'none'})`;
}
