import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

/** Where a Chromium is looked for: TRUSTLAB_CHROMIUM first, then the usual Debian and Chrome paths. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function findChromium(): string | null {
  const fromEnv = process.env.TRUSTLAB_CHROMIUM;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];

/**
 * Prints a self-contained HTML page to an A4 PDF with Chromium's own print engine (through
 * playwright-core, which the project already has for its page tests). Without a Chromium the PDF
 * is not made and the reason says which paths were tried; the HTML stays the card.
 */
export async function printPdf(
  htmlFile: string,
  pdfFile: string,
): Promise<{ pdf: string } | { skipped: string }> {
  const executablePath = findChromium();
  if (!executablePath)
    return {
      skipped: `no Chromium found (${process.env.TRUSTLAB_CHROMIUM ? `TRUSTLAB_CHROMIUM=${process.env.TRUSTLAB_CHROMIUM}` : CANDIDATES.join(', ')}); set TRUSTLAB_CHROMIUM`,
    };
  const browser = await chromium.launch({ executablePath, args: ARGS, timeout: 30_000 });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(pathToFileURL(htmlFile).href);
    await page.pdf({ path: pdfFile, format: 'A4', printBackground: true });
    return { pdf: pdfFile };
  } finally {
    await browser.close();
  }
}
