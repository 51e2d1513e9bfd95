import type { CertSpec, PkiSpec } from '../pki-spec.ts';

/** One edit of a hierarchy, as data: what a catalogue entry changes relative to its twin. */
export type SpecChange =
  | { readonly op: 'set'; readonly ref: string; readonly fields: Partial<Omit<CertSpec, 'ref'>> }
  | { readonly op: 'add'; readonly cert: CertSpec }
  | { readonly op: 'anchors'; readonly refs: readonly string[] }
  | { readonly op: 'served'; readonly refs: readonly string[] }
  | { readonly op: 'dial'; readonly host: string }
  | { readonly op: 'client'; readonly client: NonNullable<PkiSpec['client']> };

/** Applies edits in order; a `set` or `add` naming an unknown or duplicate ref is an error. */
export function applyChanges(spec: PkiSpec, changes: readonly SpecChange[]): PkiSpec {
  let out = spec;
  for (const change of changes) {
    switch (change.op) {
      case 'set': {
        if (!out.certs.some((c) => c.ref === change.ref)) {
          throw new Error(`change sets unknown ref "${change.ref}" in "${spec.name}"`);
        }
        out = {
          ...out,
          certs: out.certs.map((c) => (c.ref === change.ref ? { ...c, ...change.fields, ref: c.ref } : c)),
        };
        break;
      }
      case 'add': {
        if (out.certs.some((c) => c.ref === change.cert.ref)) {
          throw new Error(`change adds duplicate ref "${change.cert.ref}" in "${spec.name}"`);
        }
        out = { ...out, certs: [...out.certs, change.cert] };
        break;
      }
      case 'anchors':
        out = { ...out, anchors: change.refs };
        break;
      case 'served':
        out = { ...out, served: change.refs };
        break;
      case 'dial':
        out = { ...out, dialledHost: change.host };
        break;
      case 'client':
        out = { ...out, client: change.client };
        break;
    }
  }
  return out;
}
