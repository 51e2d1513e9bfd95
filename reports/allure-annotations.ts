import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as allure from 'allure-js-commons';
import type { CaseRecord } from './record.ts';

/** `anchors::wrong-ca` → `anchors`: the family a scenario id names before `::`. */
export const scenarioFamily = (caseId: string) => caseId.split('::')[0] ?? caseId;

function readIfPresent(outDir: string, file: string | null | undefined): string | null {
  if (!file) return null;
  const path = join(outDir, file);
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

/**
 * Labels, parameters and attachments of one case's Allure result, from its record. Called inside
 * the test body; the calls only mean something when the allure-vitest reporter is on (the CLI sets
 * `allure` in the run config), otherwise allure-js-commons warns on every call, so callers guard it.
 */
export async function annotateAllure(record: CaseRecord, outDir: string): Promise<void> {
  const family = scenarioFamily(record.case);
  await allure.label('device', record.device.label);
  await allure.label('model', record.device.model);
  await allure.label('firmware', record.device.firmware);
  await allure.label('scenarioFamily', family);
  await allure.parentSuite(`${record.device.model} ${record.device.firmware}`);
  await allure.feature(family);
  for (const [name, value] of Object.entries(record.params)) await allure.parameter(name, String(value));
  // Verdicts describe the result; excluded so they do not split the case's history.
  await allure.parameter('outcome', record.outcome, { excluded: true });
  for (const [profile, verdict] of Object.entries(record.verdicts)) {
    await allure.parameter(`verdict ${profile}`, verdict, { excluded: true });
  }
  await allure.description(
    `${record.title}\n\n**${record.outcome}**: ${record.reason}\n\nModem codes: \`${record.codes.join('; ') || 'none'}\``,
  );
  const transcript = readIfPresent(outDir, record.transcriptFile);
  if (transcript !== null) await allure.attachment('AT transcript', transcript, 'text/plain');
  await allure.attachment('server observation', JSON.stringify(record.server, null, 2), 'application/json');
  const chain = readIfPresent(outDir, record.pemFile);
  await allure.attachment(
    'certificate chain',
    chain ?? JSON.stringify(record.certs, null, 2),
    chain ? 'application/x-pem-file' : 'application/json',
  );
}
