import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDevice } from '../../harness/runner/device.ts';
import { executeCase } from '../../suites/execute.ts';
import { expectationUnder } from '../../suites/matrix.ts';
import { virtualLabNetwork } from '../../suites/plan-case.ts';
import { FOUNDATION_SCENARIOS } from '../../suites/scenarios.ts';
import { CHROMIUM, keepScreenshot, sidewaysOverflow, withPage } from '../page-testing.ts';
import type { CaseRecord } from '../record.ts';
import { writeEvidence } from './write.ts';

/** Real records from the virtual modem, plus one lenient copy so the matrix shows two colours. */
let outDir: string;
let records: CaseRecord[];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'trustlab-evidence-'));
  const lab = { dialHost: '127.0.0.1', listenHost: '127.0.0.1' };
  // The catalogue's cases dial its DNS name: the virtual modem's network resolves it to the lab.
  const device = await openDevice({
    driver: 'quectel',
    personality: 'strict',
    network: virtualLabNetwork(lab),
  });
  try {
    records = [];
    for (const s of FOUNDATION_SCENARIOS)
      records.push(
        (
          await executeCase(
            device,
            { id: s.id, scenario: s, settings: s.settings, expected: expectationUnder(s, s.settings) },
            outDir,
            lab,
          )
        ).record,
      );
  } finally {
    await device.close();
  }
  const accepted = records.find((r) => r.outcome === 'accepted') as CaseRecord;
  records.push({
    ...accepted,
    case: 'anchors::right-ca@sni0',
    scenario: accepted.case,
    params: { ...accepted.params, sni: 0 },
    verdicts: { ...accepted.verdicts, rfc5280: 'lenient' },
    controls: [{ client: 'openssl s_client', result: 'rejected', detail: 'verify error:num=20' }],
  } as CaseRecord);
  writeFileSync(
    join(outDir, 'trust-model.json'),
    JSON.stringify([
      {
        id: 'anchors.uploaded-ca.trusted',
        question: 'Trusts the uploaded CA?',
        answer: 'yes',
        cases: ['anchors::wrong-ca'],
        detail: 'wrong CA rejected',
      },
    ]),
  );
  writeEvidence(outDir, records, null);
}, 60_000);

describe('evidence documents', () => {
  it('put the trust model first, link its answers to their cases and carry no external asset', async () => {
    const { readFileSync } = await import('node:fs');
    const html = readFileSync(join(outDir, 'evidence.html'), 'utf8');
    const md = readFileSync(join(outDir, 'evidence.md'), 'utf8');
    expect(html.indexOf('id="trust-model"')).toBeLessThan(html.indexOf('id="matrix"'));
    expect(html).toContain('href="#case-anchors-wrong-ca"');
    expect(html).not.toMatch(/<(link|img)\b/i);
    // The one script is inline (the matrix filter): nothing is fetched.
    expect(html).not.toMatch(/<script[^>]*\bsrc=/i);
    expect(html).not.toMatch(/(src|href)="https?:/i);
    expect(md.indexOf('## Inferred trust-anchor model')).toBeLessThan(md.indexOf('## Verdict matrix'));
    expect(md).toContain('[anchors::wrong-ca](#case-anchors-wrong-ca)');
    expect(md).toContain('| openssl s_client | rejected | verify error:num=20 |');
  });

  it('renders in Chromium with every case in the matrix and a downloadable PEM bundle', async (ctx) => {
    if (!existsSync(CHROMIUM)) ctx.skip(`Chromium not installed at ${CHROMIUM}`);
    await withPage({ width: 1200, height: 900 }, async (page, problems) => {
      await page.goto(`file://${join(outDir, 'evidence.html')}`);
      // No DOM lib in this project's types: the page's window is reached through globalThis.
      const cells = await page.$$eval('#matrix td.cell[data-case]', (tds) =>
        tds.map((td) => {
          const box = td as unknown as { offsetWidth: number; offsetHeight: number };
          const view = globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } };
          return {
            id: td.getAttribute('data-case'),
            colour: view.getComputedStyle(td).backgroundColor,
            visible: box.offsetWidth > 0 && box.offsetHeight > 0,
          };
        }),
      );
      expect(cells.map((c) => c.id).sort()).toEqual(records.map((r) => r.case).sort());
      expect(cells.every((c) => c.visible)).toBe(true);
      const colourOf = (id: string) => cells.find((c) => c.id === id)?.colour;
      expect(colourOf('anchors::right-ca')).toBe('rgb(31, 136, 61)'); // conformant
      expect(colourOf('anchors::right-ca@sni0')).toBe('rgb(207, 34, 46)'); // lenient
      // The two settings of one scenario share its row; a column per variation from the defaults.
      expect(await page.$$eval('#matrix tbody tr:not(.family)', (rows) => rows.length)).toBe(
        FOUNDATION_SCENARIOS.length,
      );
      expect(await page.$$eval('#matrix thead th', (ths) => ths.map((th) => th.textContent))).toEqual([
        'scenario',
        'default',
        'sni=0',
      ]);
      expect(
        await page.$eval('#matrix thead th[title]:nth-child(3)', (th) => th.getAttribute('title')),
      ).toMatch(/(^| )sni=0( |$)/);
      // Another profile recolours the cells from the record's own verdicts; a family filter hides the rest.
      await page.selectOption('#matrix-profile', 'webpki');
      const webpki = records.find((r) => r.case === 'anchors::right-ca@sni0')?.verdicts.webpki;
      expect(
        await page.$eval('#matrix td[data-case="anchors::right-ca@sni0"] .verdict', (e) => e.textContent),
      ).toBe(webpki);
      await page.selectOption('#matrix-profile', 'rfc5280');
      const families = await page.$$eval('#matrix-family option', (os) =>
        os.map((o) => o.getAttribute('value')),
      );
      const one = families.find((f) => f !== '') as string;
      await page.selectOption('#matrix-family', one);
      const shown = await page.$$eval('#matrix tbody tr:not(.family)', (rows) =>
        rows
          .filter((r) => !(r as unknown as { hidden: boolean }).hidden)
          .map((r) => r.getAttribute('data-family')),
      );
      expect(shown.length).toBeGreaterThan(0);
      expect(new Set(shown)).toEqual(new Set([one]));
      await page.selectOption('#matrix-family', '');
      const pem = await page.$eval(
        'section#case-anchors-right-ca a.pem',
        (a) => a.getAttribute('href') ?? '',
      );
      const bundle = Buffer.from(pem.replace(/^data:[^,]+;base64,/, ''), 'base64').toString();
      expect(bundle.match(/-----BEGIN CERTIFICATE-----/g)?.length).toBeGreaterThanOrEqual(2);
      expect(bundle).not.toContain('PRIVATE KEY');
      // On a phone the page does not overflow sideways: the matrix scrolls inside its own box.
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(1);
      expect(problems).toEqual([]);
      await keepScreenshot(page, 'evidence-phone.png');
    });
  }, 60_000);
});
