import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrustModelAnswer } from './evidence/trust-model.ts';
import { printable } from './printable.ts';
import type { CaseRecord } from './record.ts';
import { judgeRecords, type ReporterResult, type RunJudging, scenarioFamily } from './reporter-status.ts';

/** What the whole run was, shown as Allure's environment and as labels on every result. */
export interface ReportEnvironment {
  readonly device: string;
  readonly model: string;
  readonly firmware: string;
  readonly imei: string | null;
  readonly harnessVersion: string;
  readonly harnessCommit: string | null;
  readonly catalogueRevision: string | null;
  readonly profile: string;
  /** The baseline whose findings count as known, or null. */
  readonly baseline: string | null;
}

/** An IMEI identifies one customer's unit: reports keep the type allocation code and the last two digits. */
export function maskImei(imei: string | null): string | null {
  if (!imei) return null;
  const digits = imei.replace(/\D/g, '');
  if (digits.length < 10) return '*'.repeat(digits.length);
  return `${digits.slice(0, 8)}${'*'.repeat(digits.length - 10)}${digits.slice(-2)}`;
}

/** The TLS engines that answered the virtual modem's handshakes, or "device" for a real modem. */
export function tlsEngines(records: readonly CaseRecord[]): string {
  const engines = new Set(records.flatMap((r) => (r.virtualTls?.engine ? [r.virtualTls.engine] : [])));
  return engines.size > 0 ? [...engines].sort().join(', ') : 'the device (no virtual TLS engine)';
}

/**
 * Allure categories (Allure 3 config form): device findings grouped by scenario family and by the
 * trust-model question each case informs; known findings, no-verdict cases and harness faults apart.
 */
export function allureCategories(): readonly Record<string, unknown>[] {
  const byCategory = (category: string) => ({ labels: { trustlabCategory: `^${category}$` } });
  return [
    {
      id: 'trustlab-findings',
      name: 'Device findings (new or changed)',
      matchers: byCategory('finding'),
      groupBy: [{ label: 'scenarioFamily' }, { label: 'trustQuestion' }],
      groupByMessage: false,
      expand: true,
    },
    {
      id: 'trustlab-known-findings',
      name: 'Known findings (recorded in the baseline)',
      matchers: byCategory('known-finding'),
      groupBy: [{ label: 'scenarioFamily' }, { label: 'trustQuestion' }],
      groupByMessage: false,
    },
    {
      id: 'trustlab-harness-faults',
      name: 'Harness faults (consistency check failed)',
      matchers: byCategory('harness-fault'),
    },
    {
      id: 'trustlab-no-verdict',
      name: 'No verdict (inconclusive or unconfirmed by the reference clients)',
      matchers: byCategory('no-verdict'),
    },
  ];
}

const stableId = (text: string) => createHash('md5').update(text).digest('hex');

function readIfPresent(outDir: string, file: string | null | undefined): string | null {
  if (!file) return null;
  const path = join(outDir, file);
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

/** Case id → the trust-model questions whose answers rest on it. */
function questionsByCase(trustModel: readonly TrustModelAnswer[] | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const answer of trustModel ?? []) {
    for (const id of answer.cases) out.set(id, [...(out.get(id) ?? []), answer.question]);
  }
  return out;
}

function description(record: CaseRecord, result: ReporterResult, profile: string): string {
  const lines = [
    record.title,
    '',
    `**${record.outcome}**: ${record.reason}`,
    '',
    `Verdict under ${profile}: **${record.verdicts[profile] ?? '—'}** (all profiles: ${Object.entries(
      record.verdicts,
    )
      .map(([p, v]) => `${p} ${v}`)
      .join(', ')})`,
    '',
    `Modem codes: \`${record.codes.join('; ') || 'none'}\``,
  ];
  if (result.baseline) {
    const { novelty, changes } = result.baseline;
    lines.push(
      '',
      `Against the baseline: ${novelty}${changes.length ? ` (${changes.length} field(s) changed)` : ''}`,
    );
  }
  return printable(lines.join('\n'));
}

export interface AllureResultsInput extends RunJudging {
  readonly outDir: string;
  readonly records: readonly CaseRecord[];
  readonly environment: ReportEnvironment;
  readonly trustModel: readonly TrustModelAnswer[] | null;
  /** Case id → the harness consistency check's failure message. */
  readonly harnessFaults: ReadonlyMap<string, string>;
}

function writeAttachment(dir: string, name: string, content: string, type: string, ext: string) {
  const source = `${randomUUID()}-attachment.${ext}`;
  writeFileSync(join(dir, source), printable(content));
  return { name, source, type };
}

/**
 * Writes `allure-results/` from the run's records alone (one result per case, its status from the
 * verdict under the profile), with `environment.properties`. Replaces what was there: every
 * session's results are complete on their own.
 */
export function writeAllureResults(input: AllureResultsInput): string {
  const dir = join(input.outDir, 'allure-results');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const env = input.environment;
  const questions = questionsByCase(input.trustModel);
  const engines = tlsEngines(input.records);
  for (const { record, result } of judgeRecords(input.records, input)) {
    const family = scenarioFamily(record.case);
    const label = (name: string, value: string) => ({ name, value: printable(value) });
    const attachments = [
      writeAttachment(
        dir,
        'server observation',
        JSON.stringify(record.server, null, 2),
        'application/json',
        'json',
      ),
    ];
    const transcript = readIfPresent(input.outDir, record.transcriptFile);
    if (transcript !== null)
      attachments.unshift(writeAttachment(dir, 'AT transcript', transcript, 'text/plain', 'txt'));
    const chain = readIfPresent(input.outDir, record.pemFile);
    if (chain !== null)
      attachments.push(writeAttachment(dir, 'certificate chain', chain, 'application/x-pem-file', 'pem'));
    const start = Date.parse(record.startedAt);
    const stop = Date.parse(record.endedAt);
    const allure = {
      uuid: randomUUID(),
      historyId: stableId(`${record.case}`),
      testCaseId: stableId(`trustlab:${record.case}`),
      name: record.case,
      fullName: `trustlab:${record.case}`,
      status: result.status,
      statusDetails: {
        ...(result.message ? { message: result.message } : {}),
        known: result.category === 'known-finding',
      },
      stage: 'finished',
      description: description(record, result, input.profile),
      start: Number.isFinite(start) ? start : 0,
      stop: Number.isFinite(stop) ? stop : 0,
      labels: [
        label('parentSuite', `${env.model} ${env.firmware}`),
        label('suite', family),
        label('feature', family),
        label('scenarioFamily', family),
        label('trustlabCategory', result.category),
        label('device', env.device),
        label('model', env.model),
        label('firmware', env.firmware),
        label('profile', input.profile),
        label('tlsEngine', record.virtualTls?.engine ?? 'device'),
        label('harnessVersion', env.harnessVersion),
        ...(env.catalogueRevision ? [label('catalogueRevision', env.catalogueRevision)] : []),
        ...(questions.get(record.case) ?? []).map((q) => label('trustQuestion', q)),
        ...(questions.get(record.case) ?? []).map((q) => label('story', q)),
        ...(result.category === 'known-finding' ? [label('tag', 'known-finding')] : []),
        ...(result.category === 'finding' ? [label('tag', 'finding')] : []),
      ],
      parameters: [
        ...Object.entries(record.params).map(([name, value]) => ({ name, value: printable(String(value)) })),
        // Verdicts describe the result; excluded so they do not split the case's history.
        { name: 'outcome', value: record.outcome, excluded: true },
        ...Object.entries(record.verdicts).map(([p, v]) => ({
          name: `verdict ${p}`,
          value: v,
          excluded: true,
        })),
      ],
      attachments,
      steps: [],
      links: [],
    };
    writeFileSync(join(dir, `${allure.uuid}-result.json`), JSON.stringify(allure));
  }
  const properties = {
    device: env.device,
    model: env.model,
    firmware: env.firmware,
    imei: maskImei(env.imei) ?? 'not reported',
    'harness.version': env.harnessVersion,
    'harness.commit': env.harnessCommit ?? 'unknown',
    'catalogue.revision': env.catalogueRevision ?? 'unknown',
    'tls.engine': engines,
    profile: input.profile,
    baseline: env.baseline ?? 'none',
  };
  writeFileSync(
    join(dir, 'environment.properties'),
    `${Object.entries(properties)
      .map(([k, v]) => `${k}=${printable(v).replace(/[\r\n]/g, ' ')}`)
      .join('\n')}\n`,
  );
  return dir;
}
