import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { PkiHierarchy } from '../build.ts';
import type { NodeX509Check } from '../catalogue/types.ts';

export interface NodeCheckResult {
  readonly passed: boolean;
  readonly detail: string;
}

function served(h: PkiHierarchy): X509Certificate[] {
  return h.spec.served.map((ref) => {
    const built = h.certs.get(ref);
    if (!built) throw new Error(`served ref "${ref}" was not built`);
    return new X509Certificate(built.pem);
  });
}

/**
 * Checks through Node's X509Certificate, i.e. OpenSSL's X509_check_host / X509_check_issued with
 * flags `openssl verify` cannot set. Used where `openssl verify` accepts a defect by design.
 */
export function nodeX509Check(h: PkiHierarchy, check: NodeX509Check): NodeCheckResult {
  const chain = served(h);
  const leaf = chain[0] as X509Certificate;
  const host = h.spec.dialledHost;
  switch (check) {
    case 'hostname-without-cn-fallback':
    case 'hostname-without-partial-wildcards': {
      if (isIP(host)) {
        const matched = leaf.checkIP(host);
        return { passed: matched !== undefined, detail: `checkIP(${host}) → ${matched}` };
      }
      const options =
        check === 'hostname-without-cn-fallback'
          ? ({ subject: 'never' } as const)
          : ({ partialWildcards: false } as const);
      const matched = leaf.checkHost(host, options);
      return {
        passed: matched !== undefined,
        detail: `checkHost(${host}, ${JSON.stringify(options)}) → ${matched}`,
      };
    }
    case 'served-chain-order': {
      for (let i = 0; i + 1 < chain.length; i++) {
        const child = chain[i] as X509Certificate;
        const parent = chain[i + 1] as X509Certificate;
        if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
          return {
            passed: false,
            detail: `served[${i + 1}] (${parent.subject.replaceAll('\n', ', ')}) did not issue served[${i}] (${child.subject.replaceAll('\n', ', ')})`,
          };
        }
      }
      return { passed: true, detail: 'each served certificate is issued by the next' };
    }
  }
}
