import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { LOOPBACK_LAB } from '../../contracts/case.ts';
import { CHROMIUM, keepScreenshot, sidewaysOverflow, withPage } from '../../reports/page-testing.ts';
import { runLimbo, sha256File } from './limbo-run.ts';
import { PINNED_LIMBO } from './limbo-suite.ts';

// Lives in suites/: the page is rendered from a real run's records, and running one is the suite's job.
it('renders the anomalies page of a real run in Chromium: per namespace, anomalies with what the server saw, on a phone too', async (ctx) => {
  if (!existsSync(CHROMIUM)) ctx.skip(`Chromium not installed at ${CHROMIUM}`);
  const outDir = mkdtempSync(join(tmpdir(), 'trustlab-limbo-page-'));
  const result = await runLimbo(
    {
      driver: 'quectel',
      lab: LOOPBACK_LAB,
      limboFile: PINNED_LIMBO,
      limboSha256: sha256File(PINNED_LIMBO),
      cases: ['webpki::san::*', 'crl::*'],
    },
    outDir,
    'test',
  );
  const lenient = result.records.filter(
    (r) => r.verdicts.limbo === 'lenient' || r.verdicts.limbo === 'strict',
  );
  await withPage({ width: 390, height: 800 }, async (page, problems) => {
    await page.goto(pathToFileURL(result.files.html).href);
    const namespaces = await page.locator('section.ns h2').allTextContents();
    expect(namespaces).toEqual(['crl', 'webpki']);
    expect(await page.locator('#ns-crl summary').first().textContent()).toMatch(/^Skipped \(8\)$/);
    for (const r of lenient)
      await expect(page.locator(`td.id code:text-is("${r.case}")`).count()).resolves.toBe(1);
    if (lenient.length > 0)
      expect(await page.locator('#ns-webpki table').first().textContent()).toMatch(/handshake completed/);
    expect(await sidewaysOverflow(page)).toBe(0);
    await keepScreenshot(page, 'limbo-anomalies-phone.png', true);
    expect(problems).toEqual([]);
  });
}, 120_000);
