import { type BuildOptions, buildPki, type PkiHierarchy, summarize } from './build.ts';
import type { PkiSpec } from './pki-spec.ts';
import { standardSpec } from './pki-spec.ts';
import type { Hierarchy, HierarchySpec } from './spec.ts';

export { summarize };

/**
 * The original two-shape spec as a declarative one: root → leaf (no intermediate), leaf CN = the
 * dialled host, and the device given either the issuing root or an unrelated one.
 */
export function fromHierarchySpec(spec: HierarchySpec): PkiSpec {
  const base = standardSpec({ ...spec, intermediates: 0 });
  return {
    ...base,
    certs: base.certs.map((c) => (c.ref === 'leaf' ? { ...c, commonName: spec.dialledHost } : c)),
    anchors: [spec.anchor === 'issuing-root' ? 'root' : 'unrelated-root'],
  };
}

function isPkiSpec(spec: HierarchySpec | PkiSpec): spec is PkiSpec {
  return 'certs' in spec;
}

/**
 * Builds the hierarchy a spec describes: real keys (cached by role), real signatures.
 * A `HierarchySpec` keeps its original contract (anchors always present); a `PkiSpec` gives
 * the full declarative form, where `anchorsPem` is null when no CA is uploaded.
 */
export async function buildHierarchy(spec: HierarchySpec, now?: Date): Promise<Hierarchy>;
export async function buildHierarchy(spec: PkiSpec, options?: BuildOptions): Promise<PkiHierarchy>;
export async function buildHierarchy(
  spec: HierarchySpec | PkiSpec,
  second?: Date | BuildOptions,
): Promise<Hierarchy | PkiHierarchy> {
  const options: BuildOptions = second instanceof Date ? { clock: second } : (second ?? {});
  if (isPkiSpec(spec)) return buildPki(spec, options);
  const built = await buildPki(fromHierarchySpec(spec), options);
  return {
    spec,
    anchorsPem: built.anchorsPem as string,
    servedChainPem: built.servedChainPem,
    serverKeyPem: built.serverKeyPem,
    issuingRootPem: built.issuingRootPem,
    manifest: { anchors: built.manifest.anchors, served: built.manifest.served },
  };
}
