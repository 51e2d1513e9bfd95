import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolAvailable } from '../../harness/tools/find-tool.ts';
import { buildPki, type PkiHierarchy } from '../build.ts';
import { type CaseFiles, writeCaseFiles } from '../files.ts';
import { certtoolVerify } from '../verifiers/certtool.ts';
import { nodeX509Check } from '../verifiers/node-x509.ts';
import { matchesVerdict, opensslInspectLeaf, opensslVerify } from '../verifiers/openssl.ts';
import { applyChanges, CATALOGUE, type CatalogueEntry, FAMILIES, X509_V_ERR } from './index.ts';

const hasOpenssl = await toolAvailable('openssl');
const hasCerttool = await toolAvailable('certtool', ['--version']);

/** The defects the issue names, so none can silently drop out of the catalogue. */
const REQUIRED_IDS = [
  'anchors::wrong-ca',
  'anchors::no-ca-uploaded',
  'anchors::wrong-then-right-root',
  'anchors::intermediate-as-anchor',
  'anchors::v1-root',
  'anchors::root-without-basic-constraints',
  'anchors::root-ca-false',
  'anchors::root-ku-without-keycertsign',
  'anchors::root-without-key-usage',
  'anchors::root-bc-not-critical',
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `chains::intermediates-${n}`),
  'chains::intermediate-not-sent',
  'chains::reverse-order',
  'chains::extra-unrelated-cert',
  'chains::pathlen-exceeded',
  'chains::intermediate-without-basic-constraints',
  'chains::intermediate-ca-false',
  'chains::cross-signed-intermediate',
  ...['leaf', 'intermediate', 'root'].flatMap((w) => [
    `validity::${w}-expired`,
    `validity::${w}-not-yet-valid`,
  ]),
  'names::san-mismatch',
  'names::cn-only-no-san',
  'names::cn-matches-san-does-not',
  'names::wildcard-one-label',
  'names::wildcard-apex',
  'names::wildcard-two-labels',
  'names::wildcard-partial',
  'names::ip-literal-ip-san',
  'names::ip-literal-dns-san',
  'extensions::eku-client-auth-only',
  'extensions::leaf-ku-without-digital-signature',
  'extensions::unknown-critical-extension-leaf',
  'extensions::unknown-critical-extension-intermediate',
  'extensions::unknown-critical-extension-root',
  'extensions::name-constraints-exclude-dialled-name',
  'extensions::leaf-ca-true',
  'signatures::sha1-leaf',
  'signatures::sha1-intermediate',
  'signatures::md5-leaf',
  'signatures::rsa1024-leaf',
  'signatures::rsa1024-root',
  'signatures::corrupted-leaf-signature',
  'signatures::corrupted-intermediate-signature',
  'client::right-ca',
  'client::wrong-ca',
  'client::expired',
];

describe('the catalogue as data', () => {
  it('holds every defect the issue names, with unique family::kebab ids', () => {
    const ids = CATALOGUE.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(REQUIRED_IDS));
    for (const e of CATALOGUE) {
      expect(e.id).toMatch(/^[a-z]+::[a-z0-9-]+$/);
      expect(e.id.startsWith(`${e.family}::`)).toBe(true);
      expect(FAMILIES).toContain(e.family);
    }
  });

  it('derives every spec from its twin by the recorded change, and a defect changes something', () => {
    for (const e of CATALOGUE) {
      expect(applyChanges({ ...e.twin, name: e.id }, e.change)).toEqual(e.spec);
      expect(e.twin.name).toBe(`${e.id}~twin`);
      if (e.kind === 'defect') expect(e.change.length, e.id).toBeGreaterThan(0);
    }
  });

  it('names a second verifier wherever OpenSSL accepts a defect, and says why', () => {
    for (const e of CATALOGUE.filter((x) => x.kind === 'defect' && x.expect.openssl.verdict.ok)) {
      expect(e.expect.openssl.lenientBecause, e.id).toBeTruthy();
      expect(e.expect.second, e.id).toBeDefined();
    }
  });
});

interface BuiltCase {
  readonly h: PkiHierarchy;
  readonly files: CaseFiles;
}

describe('independent verifiers confirm each defect and pass its twin', () => {
  // Built once for the file; keys come from the shared on-disk cache. The clock is "now"
  // because certtool cannot be given another time.
  const clock = new Date();
  const built = new Map<string, { spec: BuiltCase; twin: BuiltCase }>();
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustlab-catalogue-'));
    const one = async (e: CatalogueEntry, which: 'spec' | 'twin'): Promise<BuiltCase> => {
      const h = await buildPki(e[which], { clock });
      const files = await writeCaseFiles(join(dir, e.id.replace('::', '--'), which), h);
      return { h, files };
    };
    await Promise.all(
      CATALOGUE.map(async (e) => {
        built.set(e.id, { spec: await one(e, 'spec'), twin: await one(e, 'twin') });
      }),
    );
    // An uncached RSA-8192 key (keys::leaf-rsa8192) takes 20–60 s to generate on a loaded machine.
  }, 300_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const get = (id: string) => {
    const b = built.get(id);
    if (!b) throw new Error(`${id} was not built`);
    return b;
  };

  for (const e of CATALOGUE) {
    const o = e.expect.openssl;
    const said = o.verdict.ok
      ? 'OK'
      : `X509_V_ERR_${o.verdict.error} (${X509_V_ERR[o.verdict.error]}) at depth ${o.verdict.depth}`;
    const lenient = o.lenientBecause ? ' (lenient by design)' : '';

    it(`${e.id}: openssl verify says ${said}${lenient}; the twin verifies`, async (ctx) => {
      if (!hasOpenssl) ctx.skip('openssl not installed');
      const { spec, twin } = get(e.id);
      const result = await opensslVerify(spec.h, spec.files, o);
      expect(matchesVerdict(result, o), `${result.args.join(' ')}\n${result.output}`).toBe(true);
      const twinResult = await opensslVerify(twin.h, twin.files, o);
      expect(twinResult.ok, `twin: ${twinResult.args.join(' ')}\n${twinResult.output}`).toBe(true);
    });

    for (const variant of e.expect.opensslVariants ?? []) {
      it(`${e.id}: with ${variant.flags.join(' ')} openssl says ${variant.verdict.ok ? 'OK' : variant.verdict.error} (${variant.why})`, async (ctx) => {
        if (!hasOpenssl) ctx.skip('openssl not installed');
        const { spec, twin } = get(e.id);
        const result = await opensslVerify(spec.h, spec.files, variant);
        expect(matchesVerdict(result, variant), result.output).toBe(true);
        expect((await opensslVerify(twin.h, twin.files, variant)).ok).toBe(true);
      });
    }

    const second = e.expect.second;
    if (second?.tool === 'certtool') {
      it(`${e.id}: OpenSSL is lenient by design, GnuTLS certtool rejects it ("${second.mustPrint}"); the twin verifies`, async (ctx) => {
        if (!hasCerttool) ctx.skip('certtool (gnutls-bin) not installed');
        const { spec, twin } = get(e.id);
        const result = await certtoolVerify(spec.h, spec.files);
        expect(result.verified, result.output).toBe(false);
        expect(result.status).toContain(second.mustPrint);
        const twinResult = await certtoolVerify(twin.h, twin.files);
        expect(twinResult.verified, twinResult.output).toBe(true);
      });
    } else if (second?.tool === 'node-x509') {
      it(`${e.id}: OpenSSL is lenient by design, Node X509Certificate check ${second.check} rejects it; the twin passes`, () => {
        const { spec, twin } = get(e.id);
        const result = nodeX509Check(spec.h, second.check);
        expect(result.passed, result.detail).toBe(false);
        const twinResult = nodeX509Check(twin.h, second.check);
        expect(twinResult.passed, twinResult.detail).toBe(true);
      });
    } else if (second?.tool === 'openssl-x509-inspect') {
      it(`${e.id}: no verifier here rejects it (see lenientBecause); openssl x509 shows ${second.defectPrints}, the twin ${second.twinPrints}`, async (ctx) => {
        if (!hasOpenssl) ctx.skip('openssl not installed');
        const { spec, twin } = get(e.id);
        expect(await opensslInspectLeaf(spec.files, second.extension)).toContain(second.defectPrints);
        expect(await opensslInspectLeaf(twin.files, second.extension)).toContain(second.twinPrints);
      });
    }
  }
});
