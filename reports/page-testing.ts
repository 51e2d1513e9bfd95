import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';

/** For the page tests: where Chromium is, and where screenshots are kept for a person (gitignored). */
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = process.env.TRUSTLAB_ARTIFACTS ?? join(process.cwd(), 'test-artifacts');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Opens one page in headless Chromium and hands it to `use` with the list of what went wrong on it
 * (page errors, console errors, anything fetched beyond file: and data:), then closes the browser.
 */
export async function withPage<T>(
  viewport: { width: number; height: number },
  use: (page: Page, problems: string[]) => Promise<T>,
): Promise<T> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  try {
    const page = await browser.newPage({ viewport });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`fetched ${r.url()}`);
    });
    return await use(page, problems);
  } finally {
    await browser.close();
  }
}

/** How many pixels the page overflows its viewport sideways (0 when it fits). */
export function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    // No DOM lib in this project's types: the page's document is reached through globalThis.
    const doc = (
      globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }
    ).document.documentElement;
    return Math.max(0, doc.scrollWidth - doc.clientWidth);
  });
}

/** Keeps a screenshot of the page in ARTIFACTS under `name`. */
export async function keepScreenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage });
}
