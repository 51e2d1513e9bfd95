import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPki, KeyCache } from './build.ts';
import { buildHierarchy, summarize } from './factory.ts';
import { writeCaseFiles } from './files.ts';
import {
  ANCHOR_FILE_FORMATS,
  anchorFileAsPem,
  anchorFileBytes,
  anchorFileText,
  pemCertificates,
} from './pem.ts';
import { standardSpec } from './pki-spec.ts';

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

describe('declarative PKI specs', () => {
  const clock = new Date('2026-03-01T12:34:56Z');

  it('is deterministic: same spec → same subjects, serials, keys; RSA bytes identical, ECDSA signatures randomized', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trustlab-keys-'));
    try {
      const rsa = standardSpec({
        name: 'det-rsa',
        keyType: 'rsa2048',
        dialledHost: 'broker.test',
        intermediates: 1,
      });
      const a = await buildPki(rsa, { clock, keys: new KeyCache(dir) });
      // A fresh cache over the same directory: keys come back from disk, not from memory.
      const b = await buildPki(rsa, { clock, keys: new KeyCache(dir) });
      expect(b.servedChainPem).toBe(a.servedChainPem);
      expect(b.serverKeyPem).toBe(a.serverKeyPem);
      const ec = standardSpec({
        name: 'det-ec',
        keyType: 'p256',
        dialledHost: 'broker.test',
        intermediates: 1,
      });
      const c = await buildPki(ec, { clock, keys: new KeyCache(dir) });
      const d = await buildPki(ec, { clock, keys: new KeyCache(dir) });
      expect(d.manifest.served.map((s) => [s.subject, s.serial])).toEqual(
        c.manifest.served.map((s) => [s.subject, s.serial]),
      );
      expect(d.serverKeyPem).toBe(c.serverKeyPem);
      expect(d.servedChainPem).not.toBe(c.servedChainPem);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('places validity against the device clock (00:00 UTC of its day) and summarizes as Node parses it', async () => {
    const spec = standardSpec({ name: 'clock', keyType: 'p384', dialledHost: '127.0.0.1', intermediates: 2 });
    const h = await buildPki(spec, { clock, keys: new KeyCache(null) });
    expect(h.clock.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    for (const built of h.certs.values()) expect(built.summary).toEqual(summarize(built.pem));
    const leaf = new X509Certificate(h.certs.get('leaf')?.pem ?? '');
    expect(new Date(leaf.validFrom).toISOString()).toBe('2026-01-30T00:00:00.000Z');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.verify(new X509Certificate(h.certs.get('ica2')?.pem ?? '').publicKey)).toBe(true);
  });

  it('writes PEM, DER, bundle and a one-line manifest; anchors absent when no CA is uploaded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trustlab-files-'));
    try {
      const spec = {
        ...standardSpec({ name: 'files', keyType: 'p256', dialledHost: 'b.test', intermediates: 1 }),
        anchors: [],
      };
      const h = await buildPki(spec, { clock, keys: new KeyCache(null) });
      expect(h.anchorsPem).toBeNull();
      const files = await writeCaseFiles(dir, h);
      expect(files.anchors).toBeNull();
      const der = await readFile(files.certs.get('leaf')?.der ?? '');
      expect(new X509Certificate(der).fingerprint256).toBe(h.manifest.served[0]?.sha256);
      const manifest = await readFile(files.manifest, 'utf8');
      expect(manifest.trimEnd().split('\n')).toHaveLength(1);
      expect(JSON.parse(manifest).served[1].subject).toContain('ica1');
      expect(await readFile(files.bundle, 'utf8')).toContain('PRIVATE KEY');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a spec naming an unknown issuer, with the reason', async () => {
    const spec = standardSpec({ name: 'bad', keyType: 'p256', dialledHost: 'b.test', intermediates: 0 });
    const broken = {
      ...spec,
      certs: spec.certs.map((c) => (c.ref === 'leaf' ? { ...c, issuer: 'nope' } : c)),
    };
    await expect(buildPki(broken, { keys: new KeyCache(null) })).rejects.toThrow(/unknown ref "nope"/);
  });
});

describe('size ladders and newer keys', () => {
  const derSizes = (pem: string) =>
    (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map(
      (p) => new X509Certificate(p).raw.length,
    );

  it('pads each certificate to exactly the DER size asked for, and the padded chain still verifies', async () => {
    const spec = standardSpec({ name: 'pad', keyType: 'p256', dialledHost: 'broker.test', intermediates: 1 });
    const padded = {
      ...spec,
      certs: spec.certs.map((c) =>
        c.ref === 'leaf' ? { ...c, padToBytes: 3000 } : c.ref === 'ica1' ? { ...c, padToBytes: 1093 } : c,
      ),
    };
    const h = await buildPki(padded);
    expect(derSizes(h.servedChainPem)).toEqual([3000, 1093]);
    const [leaf, ica] = (h.servedChainPem.match(/-----BEGIN[\s\S]*?END CERTIFICATE-----/g) ?? []).map(
      (p) => new X509Certificate(p),
    );
    expect(leaf?.verify((ica as X509Certificate).publicKey)).toBe(true);
    expect(ica?.verify(new X509Certificate(h.issuingRootPem).publicKey)).toBe(true);
  });

  it('refuses a padToBytes below the certificate’s own size, naming it', async () => {
    const spec = standardSpec({
      name: 'pad-small',
      keyType: 'p256',
      dialledHost: 'broker.test',
      intermediates: 1,
    });
    const tooSmall = {
      ...spec,
      certs: spec.certs.map((c) => (c.ref === 'leaf' ? { ...c, padToBytes: 100 } : c)),
    };
    await expect(buildPki(tooSmall)).rejects.toThrow(
      /leaf: padToBytes 100 is below the certificate's own size/,
    );
  });

  it('issues Ed25519 and P-521 leaves under a P-256 chain, and an Ed25519-signed child (RFC 8410)', async () => {
    for (const keyType of ['ed25519', 'p521'] as const) {
      const spec = standardSpec({
        name: `k-${keyType}`,
        keyType: 'p256',
        dialledHost: 'broker.test',
        intermediates: 0,
      });
      const h = await buildPki({
        ...spec,
        certs: spec.certs.map((c) => (c.ref === 'leaf' ? { ...c, keyType } : c)),
      });
      const leaf = new X509Certificate(h.servedChainPem);
      expect(leaf.publicKey.asymmetricKeyType).toBe(keyType === 'ed25519' ? 'ed25519' : 'ec');
      expect(leaf.verify(new X509Certificate(h.issuingRootPem).publicKey)).toBe(true);
    }
    const ed = standardSpec({
      name: 'k-ed-root',
      keyType: 'ed25519',
      dialledHost: 'broker.test',
      intermediates: 0,
    });
    const h = await buildPki(ed);
    const leaf = new X509Certificate(h.servedChainPem);
    expect(leaf.verify(new X509Certificate(h.issuingRootPem).publicKey)).toBe(true);
    expect(leaf.toLegacyObject().asn1Curve ?? leaf.publicKey.asymmetricKeyType).toBe('ed25519');
  });
});

describe('anchor file formats', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n';
  it('writes the same certificate with CRLF ends, behind a UTF-8 BOM, or followed by other text', () => {
    const crlf = Buffer.from(anchorFileText(pem, 'pem-crlf'));
    expect(crlf.toString()).toBe(pem.replaceAll('\n', '\r\n'));
    expect(crlf.includes('\n\n')).toBe(false);
    expect([...Buffer.from(anchorFileText(pem, 'pem-bom')).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const trailing = anchorFileText(pem, 'pem-trailing-bytes');
    expect(trailing.startsWith(pem)).toBe(true);
    expect(trailing.length).toBeGreaterThan(pem.length);
    for (const f of ANCHOR_FILE_FORMATS.filter((x) => x !== 'der'))
      expect(pemCertificates(anchorFileText(pem, f)).map((b) => b.replaceAll('\r', ''))).toEqual([pem]);
  });

  it('writes one certificate as its DER bytes, which a loader reads back as the same certificate', async () => {
    const built = await buildHierarchy({
      name: 'der',
      keyType: 'p256',
      dialledHost: 'der.test',
      anchor: 'issuing-root',
    });
    const root = pemCertificates(built.anchorsPem)[0] as string;
    const der = anchorFileBytes(root, 'der');
    expect(der[0]).toBe(0x30); // a DER SEQUENCE, no PEM armour
    expect(der.includes('-----BEGIN')).toBe(false);
    expect(new X509Certificate(anchorFileAsPem(der)).fingerprint256).toBe(
      new X509Certificate(root).fingerprint256,
    );
    // PEM files are read as they are; bytes that are neither come back for the loader to refuse.
    expect(anchorFileAsPem(Buffer.from(root))).toBe(root);
    expect(anchorFileAsPem(Buffer.from([1, 2, 3]))).toBe('\u0001\u0002\u0003');
    expect(() => anchorFileBytes(`${root}${root}`, 'der')).toThrow(/one certificate/);
  });
});
