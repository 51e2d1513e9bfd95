import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printable } from '../printable.ts';
import type { CaseRecord } from '../record.ts';
import type { RunManifest } from '../run-manifest.ts';
import { productCard, renderCardPage } from './card.ts';
import { runFileReader } from './facts.ts';
import { renderEvidenceHtml, STYLE } from './html.ts';
import { renderEvidenceMarkdown } from './markdown.ts';
import { readTrustModel } from './trust-model.ts';

/** The standalone product-spec card, beside evidence.html (its case links point there). */
export const CARD_FILE = 'card.html';
export const CARD_PDF_FILE = 'card.pdf';

/** Writes evidence.md, evidence.html and card.html into the run folder (control bytes escaped) and returns their paths. */
export function writeEvidence(
  outDir: string,
  records: readonly CaseRecord[],
  manifest: RunManifest | null,
): { markdown: string; html: string; card: string } {
  const input = { records, manifest, trustModel: readTrustModel(outDir), readRunFile: runFileReader(outDir) };
  const markdown = join(outDir, 'evidence.md');
  const html = join(outDir, 'evidence.html');
  // Device text (codes, transcripts, identity) may carry NUL or escape bytes: shown escaped, never raw.
  writeFileSync(markdown, printable(renderEvidenceMarkdown(input)));
  writeFileSync(html, printable(renderEvidenceHtml(input)));
  const card = join(outDir, CARD_FILE);
  writeFileSync(card, printable(renderCardPage(productCard(input), STYLE)));
  return { markdown, html, card };
}
