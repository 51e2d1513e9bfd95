import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildHierarchy } from './factory.ts';

describe('buildHierarchy', () => {
  it('issues a leaf that verifies against the issuing root and names the dialled host', async () => {
    const h = await buildHierarchy({
      name: 't1',
      keyType: 'p256',
      dialledHost: '127.0.0.1',
      anchor: 'issuing-root',
    });
    const leaf = new X509Certificate(h.servedChainPem);
    const root = new X509Certificate(h.anchorsPem);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(root.ca).toBe(true);
    expect(h.servedChainPem.endsWith('\n')).toBe(true);
  });

  it('gives an unrelated root as the anchor when asked, which does not verify the leaf', async () => {
    const h = await buildHierarchy({
      name: 't2',
      keyType: 'rsa2048',
      dialledHost: 'broker.test',
      anchor: 'unrelated-root',
    });
    const leaf = new X509Certificate(h.servedChainPem);
    expect(leaf.verify(new X509Certificate(h.anchorsPem).publicKey)).toBe(false);
    expect(leaf.verify(new X509Certificate(h.issuingRootPem).publicKey)).toBe(true);
    expect(leaf.checkHost('broker.test')).toBe('broker.test');
    expect(h.manifest.anchors[0]?.subject).toContain('Unrelated');
  });
});
