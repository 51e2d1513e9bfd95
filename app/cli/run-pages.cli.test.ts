import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { PERSONALITIES } from '../../harness/virtual-modem/personality.ts';
import { CHROMIUM, keepScreenshot, sidewaysOverflow, withPage } from '../../reports/page-testing.ts';

const BIN = fileURLToPath(new URL('../../bin/trustlab.js', import.meta.url));
const CASES = 'anchors::right-ca,anchors::wrong-ca,extensions::unknown-critical-extension-root';
const run = promisify(execFile);
const env = { ...process.env, TRUSTLAB_RUN: '', NO_COLOR: '1' };

/**
 * The one documented difference between the two personalities: loads-ca-at-bind loads the CA when
 * it is bound and refuses one it cannot load. What the diff must show, and nothing else.
 */
const DOCUMENTED = {
  questions: ['extensions.unknown-critical-root.refused-at-upload', 'anchors.refused-before-dialling'],
  cases: ['extensions::unknown-critical-extension-root'],
};

let dir: string;
let page: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trustlab-diff-html-'));
  for (const p of ['strict', 'loads-ca-at-bind'])
    await run(
      process.execPath,
      [BIN, 'run', '--personality', p, '--cases', CASES, '--out', join(dir, p), '--no-allure-report'],
      {
        env,
        timeout: 120_000,
      },
    );
  page = join(dir, 'diff.html');
  const diffed = await run(
    process.execPath,
    [BIN, 'diff', join(dir, 'strict'), join(dir, 'loads-ca-at-bind'), '--html', page],
    {
      env,
    },
  ).catch((e: { code: number; stdout: string }) => e);
  expect((diffed as { code?: number }).code, 'diff exits 1: something changed').toBe(1);
}, 240_000);

describe('trustlab diff --html between two personalities', () => {
  it('records both runs without a harness fault: a refused anchor is evidence, not a broken check', () => {
    for (const p of ['strict', 'loads-ca-at-bind'])
      expect(JSON.parse(readFileSync(join(dir, p, 'harness-faults.json'), 'utf8')), p).toEqual({});
  });

  it('the personalities differ only in the trait the diff is held to', () => {
    const { name: _a, description: _b, ...strict } = PERSONALITIES.strict;
    const { name: _c, description: _d, ...atBind } = PERSONALITIES['loads-ca-at-bind'];
    expect(atBind).toEqual({ ...strict, anchorLoad: 'at-bind' });
  });

  it('shows exactly their documented differences: trust-model answers first, then the case side by side', async (ctx) => {
    if (!existsSync(CHROMIUM)) ctx.skip(`Chromium not installed at ${CHROMIUM}`);
    await withPage({ width: 1100, height: 900 }, async (tab, errors) => {
      await tab.goto(`file://${page}`);
      const questions = await tab.$$eval('#trust-model-changes tr[data-question]', (rows) =>
        rows.map((r) => [r.getAttribute('data-question'), r.querySelector('td:nth-child(2)')?.textContent]),
      );
      expect(questions.map(([q]) => q).sort()).toEqual([...DOCUMENTED.questions].sort());
      for (const [, answer] of questions) expect(answer).toBe('no→yes');
      expect(await tab.$$eval('section.case h3', (hs) => hs.map((h) => h.textContent))).toEqual(
        DOCUMENTED.cases,
      );
      // Before: the device dialled and the server saw its alert; after: it never dialled.
      const changed = await tab.$$eval('section.case tr.changed', (rows) =>
        rows.map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent)),
      );
      expect(changed).toContainEqual(['server handshake', 'client-alert', 'no-connection']);
      expect(changed).toContainEqual(['codes', '+QMTOPEN: 1,-1', 'ERROR']);
      // The trust model comes before the cases, and each answer links both runs' evidence.
      const html = await tab.content();
      expect(html.indexOf('id="trust-model-changes"')).toBeLessThan(html.indexOf('class="case"'));
      const links = await tab.$$eval('#trust-model-changes a', (as) =>
        as.map((a) => a.getAttribute('href') ?? ''),
      );
      expect(links.some((l) => l.startsWith('strict/evidence.html#case-'))).toBe(true);
      expect(links.some((l) => l.startsWith('loads-ca-at-bind/evidence.html#case-'))).toBe(true);
      for (const l of links) expect(existsSync(join(dir, l.split('#')[0] as string)), l).toBe(true);
      expect(errors).toEqual([]);
      await keepScreenshot(tab, 'diff.png', true);
    });
  }, 60_000);
});

describe('trustlab history over nightly runs of one device', () => {
  it('counts each run’s verdicts, shows the answers that changed run by run, and names a run it cannot read', async () => {
    const nights = join(dir, 'nights');
    const nightly = [
      ['n1', 'strict', '2026-12-01T02:00:00.000Z'],
      ['n2', 'loads-ca-at-bind', '2026-12-02T02:00:00.000Z'],
      ['n3', 'strict', '2026-12-03T02:00:00.000Z'],
    ] as const;
    for (const [name, from, startedAt] of nightly) {
      cpSync(join(dir, from), join(nights, name), { recursive: true });
      const manifest = join(nights, name, 'run.json');
      writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), startedAt }));
    }
    mkdirSync(join(nights, 'torn'));
    writeFileSync(join(nights, 'torn', 'results.jsonl'), 'not a record\n');
    const page = join(dir, 'history.html');
    const { stdout, stderr } = await run(process.execPath, [BIN, 'history', nights, '--html', page], { env });
    expect(stderr).toMatch(/torn: .*not JSON.*\(left out\)/);
    // One device (the same IMEI), three runs oldest first, three conformant cases each.
    expect(stdout.match(/^## /gm)).toHaveLength(1);
    expect(stdout).toMatch(/\| 2026-12-01 02:00 n1 \| \S+ \| 0 \| 0 \| 3 \|/);
    const changed = stdout.split('\n').filter((l) => /\| (no|yes) \| (no|yes) \| (no|yes) \|$/.test(l));
    expect(changed.map((l) => l.split(' | ').slice(1).join(' | '))).toEqual([
      'no | yes | no |',
      'no | yes | no |',
    ]);
    expect(readFileSync(page, 'utf8')).toContain('data-question="anchors.refused-before-dialling"');
    // --last keeps the newest runs only: the two last nights still differ.
    const two = await run(process.execPath, [BIN, 'history', nights, '--last', '2'], { env });
    expect(two.stdout).not.toContain(' n1 ');
    expect(two.stdout).toContain('| question | #1 | #2 |');
  }, 60_000);
});

describe('the card and history pages in a browser', () => {
  it('render offline with every answer and every run, no console error, on a phone screen', async (ctx) => {
    if (!existsSync(CHROMIUM)) ctx.skip(`Chromium not installed at ${CHROMIUM}`);
    const history = join(dir, 'history.html');
    if (!existsSync(history))
      await run(
        process.execPath,
        [BIN, 'history', join(dir, 'strict'), join(dir, 'loads-ca-at-bind'), '--html', history],
        { env },
      );
    await withPage({ width: 390, height: 844 }, async (tab, problems) => {
      const model = JSON.parse(readFileSync(join(dir, 'loads-ca-at-bind', 'trust-model.json'), 'utf8')) as {
        question: string;
      }[];
      await tab.goto(`file://${join(dir, 'loads-ca-at-bind', 'card.html')}`);
      const card = (await tab.textContent('#card')) ?? '';
      for (const a of model) expect(card).toContain(a.question.replace(/\?$/, ''));
      expect(await sidewaysOverflow(tab), 'the card does not overflow a phone screen').toBeLessThanOrEqual(1);
      await keepScreenshot(tab, 'card-phone.png');
      await tab.goto(`file://${history}`);
      expect(await tab.$$eval('table.history-counts tr', (rows) => rows.length)).toBeGreaterThanOrEqual(3);
      expect(await sidewaysOverflow(tab), 'the history does not overflow a phone screen').toBeLessThanOrEqual(
        1,
      );
      await keepScreenshot(tab, 'history-phone.png');
      expect(problems).toEqual([]);
    });
  }, 60_000);
});
