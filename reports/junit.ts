import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportEnvironment } from './allure-results.ts';
import type { BehaviourSet } from './behaviour.ts';
import { printable } from './printable.ts';
import type { CaseRecord } from './record.ts';
import { judgeRecords, scenarioFamily } from './reporter-status.ts';

export const JUNIT_FILE = 'junit.xml';

const xml = (text: string) =>
  printable(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

const seconds = (r: CaseRecord) => {
  const ms = Date.parse(r.endedAt) - Date.parse(r.startedAt);
  return Number.isFinite(ms) && ms > 0 ? (ms / 1000).toFixed(3) : '0';
};

export interface JunitInput {
  readonly outDir: string;
  readonly records: readonly CaseRecord[];
  readonly environment: ReportEnvironment;
  readonly profile: string;
  readonly baseline?: BehaviourSet | null;
  readonly harnessFaults: ReadonlyMap<string, string>;
}

/**
 * junit.xml from the run's records: one testsuite per scenario family, one testcase per case.
 * A finding is a `<failure>`, inconclusive / control-failed and harness faults an `<error>`,
 * blocked / skipped / not-applicable and known findings `<skipped>` with the reason; each
 * testcase carries its verdicts, category and (with a baseline) novelty as properties.
 */
export function writeJunit(input: JunitInput): { file: string; failures: number; errors: number } {
  const families = new Map<string, string[]>();
  const counts = new Map<string, { tests: number; failures: number; errors: number; skipped: number }>();
  let failures = 0;
  let errors = 0;
  for (const { record, result } of judgeRecords(input.records, input)) {
    const family = scenarioFamily(record.case);
    const c = counts.get(family) ?? { tests: 0, failures: 0, errors: 0, skipped: 0 };
    c.tests++;
    const properties = [
      ['category', result.category],
      ['outcome', record.outcome],
      ...Object.entries(record.verdicts).map(([p, v]) => [`verdict.${p}`, v]),
      ...(result.baseline ? [['baseline', result.baseline.novelty]] : []),
      ...(result.category === 'known-finding' ? [['known-finding', 'true']] : []),
    ];
    const body = [`      <properties>`];
    for (const [name, value] of properties)
      body.push(`        <property name="${xml(name ?? '')}" value="${xml(value ?? '')}"/>`);
    body.push('      </properties>');
    const message = xml(result.message ?? '');
    if (result.status === 'failed') {
      c.failures++;
      failures++;
      body.push(
        `      <failure message="${message}" type="${xml(record.verdicts[input.profile] ?? '')}">${message}</failure>`,
      );
    } else if (result.status === 'broken') {
      c.errors++;
      errors++;
      body.push(`      <error message="${message}" type="${xml(result.category)}">${message}</error>`);
    } else if (result.status === 'skipped') {
      c.skipped++;
      body.push(`      <skipped message="${message}"/>`);
    }
    body.push(
      `      <system-out>${xml(`codes: ${record.codes.join('; ') || 'none'}\nserver: ${record.server.handshake}`)}</system-out>`,
    );
    counts.set(family, c);
    families.set(family, [
      ...(families.get(family) ?? []),
      `    <testcase classname="trustlab.${xml(family)}" name="${xml(record.case)}" time="${seconds(record)}">`,
      ...body,
      '    </testcase>',
    ]);
  }
  const env = input.environment;
  const suiteProperties = [
    ['device', env.device],
    ['model', env.model],
    ['firmware', env.firmware],
    ['profile', input.profile],
    ['baseline', env.baseline ?? 'none'],
    ['harness.version', env.harnessVersion],
    ['catalogue.revision', env.catalogueRevision ?? 'unknown'],
  ];
  const total = [...counts.values()].reduce(
    (a, c) => ({ tests: a.tests + c.tests, skipped: a.skipped + c.skipped }),
    { tests: 0, skipped: 0 },
  );
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="trustlab ${xml(`${env.model} ${env.firmware}`)}" tests="${total.tests}" failures="${failures}" errors="${errors}" skipped="${total.skipped}">`,
  ];
  for (const [family, cases] of families) {
    const c = counts.get(family);
    lines.push(
      `  <testsuite name="${xml(family)}" tests="${c?.tests}" failures="${c?.failures}" errors="${c?.errors}" skipped="${c?.skipped}">`,
      '    <properties>',
      ...suiteProperties.map(([n, v]) => `      <property name="${xml(n ?? '')}" value="${xml(v ?? '')}"/>`),
      '    </properties>',
      ...cases,
      '  </testsuite>',
    );
  }
  lines.push('</testsuites>');
  const file = join(input.outDir, JUNIT_FILE);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, failures, errors };
}
