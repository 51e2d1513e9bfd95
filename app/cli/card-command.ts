import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeEvidence } from '../../reports/evidence/write.ts';
import { latestPerCase, RESULTS_FILE, readRecords } from '../../reports/results-log.ts';
import { readRunManifest } from '../../reports/run-manifest.ts';
import { printCardPdf } from '../../reports/write-run-reports.ts';

/**
 * `trustlab card <run>`: the product-spec card of a run folder, as card.html and card.pdf (with
 * the evidence pages it links to, rendered again from the same records). Exit 0 with the PDF,
 * 2 when the run cannot be read or no PDF could be printed (the HTML card is still written).
 */
export async function cardCommand(run: string): Promise<number> {
  const outDir = resolve(run);
  const results = join(outDir, RESULTS_FILE);
  if (!existsSync(results)) {
    console.error(`trustlab card: ${outDir} holds no ${RESULTS_FILE}: not a run folder`);
    return 2;
  }
  let written: ReturnType<typeof writeEvidence>;
  try {
    written = writeEvidence(outDir, latestPerCase(readRecords(results)), readRunManifest(outDir));
  } catch (error) {
    console.error(`trustlab card: ${(error as Error).message}`);
    return 2;
  }
  const pdf = await printCardPdf(outDir);
  if ('skipped' in pdf) {
    console.error(`trustlab card: ${written.card} written, no PDF: ${pdf.skipped}`);
    return 2;
  }
  console.log(`card: ${pdf.pdf}\ncard (HTML): ${written.card}`);
  return 0;
}
