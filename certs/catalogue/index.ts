import { anchorEntries } from './anchors.ts';
import { chainEntries } from './chains.ts';
import { clientEntries } from './client.ts';
import type { Base } from './define.ts';
import { extensionEntries } from './extensions.ts';
import { keyEntries } from './keys.ts';
import { nameEntries } from './names.ts';
import { signatureEntries } from './signatures.ts';
import { sizeEntries } from './sizes.ts';
import type { CatalogueEntry } from './types.ts';
import { validityEntries } from './validity.ts';

export type { SpecChange } from './change.ts';
export { applyChanges } from './change.ts';
export { CLIENT_FLAGS, SERVER_FLAGS } from './define.ts';
export * from './types.ts';

/** The DNS name catalogue cases dial unless told otherwise (a lab must make it resolve). */
export const CATALOGUE_HOST = 'broker.trustlab.test';

export interface CatalogueOptions {
  /** A DNS name of three labels or more; the name cases derive their wildcards from it. */
  readonly dialledHost?: string;
}

/** The whole defect catalogue with its controls, as data. */
export function buildCatalogue(options: CatalogueOptions = {}): CatalogueEntry[] {
  const base: Base = { dialledHost: options.dialledHost ?? CATALOGUE_HOST };
  return [
    ...anchorEntries(base),
    ...chainEntries(base),
    ...validityEntries(base),
    ...nameEntries(base),
    ...extensionEntries(base),
    ...signatureEntries(base),
    ...keyEntries(base),
    ...sizeEntries(base),
    ...clientEntries(base),
  ];
}

export const CATALOGUE: readonly CatalogueEntry[] = buildCatalogue();
