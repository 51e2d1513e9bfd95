import { renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CaseOutcome } from '../../contracts/case.ts';
import { type DeviceOwnership, formatSecTags } from '../../harness/drivers/ownership.ts';
import { describeHealth, type HealthReport } from './health.ts';
import type { PowerCycleResult } from './power-cycle.ts';

export type OutcomeCounts = Record<CaseOutcome, number>;

export const emptyCounts = (): OutcomeCounts => ({
  accepted: 0,
  rejected: 0,
  inconclusive: 0,
  blocked: 0,
  skipped: 0,
});

/** One device's part of a lab run. */
export interface DeviceSummary {
  readonly name: string;
  readonly path: string;
  readonly driver: string;
  /** As the inventory declares them: labels for the lab's records; features are probed, never taken from here. */
  readonly capabilities: readonly string[];
  /** What the harness may touch on the device, when the inventory names it. */
  readonly owned: DeviceOwnership | null;
  /**
   * complete: every planned case recorded. incomplete: some cases blocked or missing after the
   * resumes allowed. excluded: not run (health check, lock). failed: nothing recorded.
   */
  readonly status: 'pending' | 'complete' | 'incomplete' | 'excluded' | 'failed';
  readonly reason: string | null;
  /** Every health check, in order (a second one follows each power cycle). */
  readonly health: readonly HealthReport[];
  readonly powerCycles: readonly PowerCycleResult[];
  /** `trustlab run` sessions: the first run, then each resume. */
  readonly sessions: number;
  readonly runDir: string;
  readonly identity: { model: string | null; firmware: string | null } | null;
  readonly counts: OutcomeCounts;
  /** Why the run's remaining cases were blocked (the suite's latch), when any were. */
  readonly blockedReason: string | null;
  readonly report?: string;
  readonly evidence?: string;
}

export interface LabSummary {
  readonly schema: 1;
  readonly inventory: string;
  readonly outDir: string;
  readonly startedAt: string;
  endedAt: string | null;
  readonly devices: DeviceSummary[];
}

export const LAB_SUMMARY_FILE = 'lab.json';

const atomicWrite = (file: string, text: string) => {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
};

/** lab.json (for machines) and lab.md (for people), rewritten as each device ends. */
export function writeLabSummary(summary: LabSummary): void {
  atomicWrite(join(summary.outDir, LAB_SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
  atomicWrite(join(summary.outDir, 'lab.md'), renderLabMarkdown(summary));
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function describeOwnership(o: DeviceOwnership): string {
  const parts = [
    ...(o.filePrefix !== undefined ? [`file prefix \`${o.filePrefix}\``] : []),
    ...(o.sslContext !== undefined ? [`SSL context ${o.sslContext}`] : []),
    ...(o.mqttClient !== undefined ? [`MQTT client ${o.mqttClient}`] : []),
    ...(o.secTags ? [`sec_tags ${formatSecTags(o.secTags)}`] : []),
  ];
  return parts.join(', ') || 'the defaults';
}

export function renderLabMarkdown(summary: LabSummary): string {
  const rel = (p: string) => relative(summary.outDir, p) || '.';
  const rows = summary.devices.map((d) => {
    const c = d.counts;
    const firmware = d.identity?.firmware ?? '';
    return `| ${cell(d.name)} | ${cell(d.path)} | ${cell(firmware)} | ${d.status} | ${c.accepted} | ${c.rejected} | ${c.inconclusive} | ${c.blocked} | ${c.skipped} | ${d.powerCycles.length} | ${d.sessions} | ${cell(d.reason ?? '')} |`;
  });
  const details = summary.devices.flatMap((d) => [
    `## ${d.name}`,
    '',
    `- device: \`${d.path}\` (${d.driver})`,
    ...(d.owned ? [`- owned: ${describeOwnership(d.owned)}`] : []),
    ...(d.capabilities.length > 0 ? [`- capabilities (declared): ${d.capabilities.join(', ')}`] : []),
    `- status: **${d.status}**${d.reason ? ` — ${d.reason}` : ''}`,
    ...(d.blockedReason ? [`- cases blocked because: ${d.blockedReason}`] : []),
    ...(d.report ? [`- report: [${rel(d.report)}](${rel(d.report)})`] : []),
    ...(d.evidence ? [`- evidence: [${rel(d.evidence)}](${rel(d.evidence)})`] : []),
    ...d.health.flatMap((h, i) => [
      `- health check ${i + 1} (${h.startedAt}): ${h.healthy ? 'healthy' : `**excluding** — ${h.reason}`}`,
      ...describeHealth(h).map((line) => `  - ${line}`),
    ]),
    ...d.powerCycles.map(
      (p) =>
        `- power cycle ${p.at}: \`${p.command}\` → ${p.ok ? 'ok' : p.timedOut ? 'timed out' : `exit ${p.exitCode}`} (${p.durationMs} ms)`,
    ),
    '',
  ]);
  return [
    `# Lab run`,
    '',
    `Inventory \`${summary.inventory}\`, started ${summary.startedAt}${summary.endedAt ? `, ended ${summary.endedAt}` : ' (running)'}.`,
    '',
    '| device | path | firmware | status | accepted | rejected | inconclusive | blocked | skipped | power cycles | sessions | reason |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...details,
  ].join('\n');
}

/** The lab's last screen: one line per device. */
export function renderLabSummaryLines(summary: LabSummary): string[] {
  const width = Math.max(...summary.devices.map((d) => d.name.length), 6);
  return [
    `lab: ${summary.devices.length} device(s)`,
    ...summary.devices.map((d) => {
      const c = d.counts;
      const counts =
        d.status === 'excluded'
          ? ''
          : ` ${c.accepted} accepted, ${c.rejected} rejected, ${c.inconclusive} inconclusive, ${c.blocked} blocked, ${c.skipped} skipped;`;
      const cycles = d.powerCycles.length ? ` ${d.powerCycles.length} power cycle(s);` : '';
      return `  ${d.name.padEnd(width)}  ${d.status}:${counts}${cycles}${d.reason ? ` ${d.reason}` : ''}`;
    }),
    `  summary: ${join(summary.outDir, 'lab.md')}`,
  ];
}
