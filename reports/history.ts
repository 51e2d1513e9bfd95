import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { STYLE } from './evidence/html.ts';
import { readTrustModel } from './evidence/trust-model.ts';
import { latestPerCase, RESULTS_FILE, readRecords } from './results-log.ts';
import { readRunManifest } from './run-manifest.ts';

/** One run as the history shows it. */
export interface HistoryRun {
  readonly dir: string;
  readonly startedAt: string;
  readonly firmware: string;
  /** Verdict under the profile → number of cases. */
  readonly verdicts: Readonly<Record<string, number>>;
  /** Question id → answer. */
  readonly answers: ReadonlyMap<string, string>;
}

/** One device over its runs, oldest first, with the questions whose answer changed between them. */
export interface DeviceHistory {
  /** The IMEI when the device reported one (the same unit across firmware), else its label. */
  readonly device: string;
  readonly model: string;
  readonly runs: readonly HistoryRun[];
  readonly changedQuestions: readonly { readonly id: string; readonly question: string }[];
}

export interface History {
  readonly profile: string;
  readonly devices: readonly DeviceHistory[];
  /** Run folders that could not be read, with why; the others are still shown. */
  readonly unreadable: readonly { readonly dir: string; readonly why: string }[];
}

/** The verdicts in the order a reader scans them: findings first. */
export const VERDICT_ORDER = [
  'lenient',
  'strict',
  'conformant',
  'inconclusive',
  'control-failed',
  'blocked',
  'skipped',
  'not-applicable',
];

/**
 * The history of several run folders: per device (by IMEI, else label), the last `last` runs by
 * start time, each with its verdict counts under the profile and its trust-model answers, and
 * the questions whose answers changed across them. A folder that cannot be read is named and left out.
 */
export function readHistory(dirs: readonly string[], profile: string, last: number): History {
  const unreadable: { dir: string; why: string }[] = [];
  const byDevice = new Map<string, { model: string; runs: HistoryRun[]; questions: Map<string, string> }>();
  for (const dir of dirs) {
    try {
      if (!existsSync(join(dir, RESULTS_FILE))) throw new Error(`no ${RESULTS_FILE}: not a run folder`);
      const manifest = readRunManifest(dir);
      const records = latestPerCase(readRecords(join(dir, RESULTS_FILE)));
      const first = records[0];
      if (!first) throw new Error('no case recorded');
      const device = manifest?.identity?.imei ?? manifest?.device ?? first?.device.label ?? 'unknown device';
      const verdicts: Record<string, number> = {};
      for (const r of records) {
        const v = r.verdicts[profile] ?? r.outcome;
        verdicts[v] = (verdicts[v] ?? 0) + 1;
      }
      const model = readTrustModel(dir) ?? [];
      const entry = byDevice.get(device) ?? {
        model: manifest?.identity?.model ?? first?.device.model ?? 'unknown model',
        runs: [],
        questions: new Map<string, string>(),
      };
      for (const a of model) entry.questions.set(a.id, a.question);
      entry.runs.push({
        dir,
        startedAt: manifest?.startedAt ?? first?.startedAt ?? '',
        firmware: manifest?.identity?.firmware ?? first?.device.firmware ?? 'unknown firmware',
        verdicts,
        answers: new Map(model.map((a) => [a.id, a.answer])),
      });
      byDevice.set(device, entry);
    } catch (error) {
      unreadable.push({ dir, why: (error as Error).message.split('\n')[0] ?? 'unreadable' });
    }
  }
  const devices = [...byDevice].map(([device, { model, runs, questions }]) => {
    const shown = [...runs].sort((a, b) => a.startedAt.localeCompare(b.startedAt)).slice(-Math.max(1, last));
    const changedQuestions = [...questions]
      .filter(([id]) => new Set(shown.map((r) => r.answers.get(id) ?? '—')).size > 1)
      .map(([id, question]) => ({ id, question }));
    return { device, model, runs: shown, changedQuestions };
  });
  return { profile, devices, unreadable };
}

const runLabel = (r: HistoryRun) => `${r.startedAt.slice(0, 16).replace('T', ' ')} ${basename(r.dir)}`;

/** The history as Markdown: per device, a row per run, then the changed answers run by run. */
export function renderHistoryMarkdown(h: History): string {
  const lines = [`# TrustLab history (${h.profile})`, ''];
  for (const d of h.devices) {
    lines.push(`## ${d.model} — ${d.device} (${d.runs.length} run(s))`, '');
    lines.push(
      `| run | firmware | ${VERDICT_ORDER.join(' | ')} |`,
      `|---|---|${VERDICT_ORDER.map(() => '---').join('|')}|`,
    );
    for (const r of d.runs)
      lines.push(
        `| ${runLabel(r)} | ${r.firmware} | ${VERDICT_ORDER.map((v) => r.verdicts[v] ?? 0).join(' | ')} |`,
      );
    lines.push('');
    if (d.changedQuestions.length === 0) lines.push('No trust-model answer changed across these runs.', '');
    else {
      lines.push(
        `| question | ${d.runs.map((_, i) => `#${i + 1}`).join(' | ')} |`,
        `|---|${d.runs.map(() => '---').join('|')}|`,
      );
      for (const q of d.changedQuestions)
        lines.push(`| ${q.question} | ${d.runs.map((r) => r.answers.get(q.id) ?? '—').join(' | ')} |`);
      lines.push('');
    }
  }
  for (const u of h.unreadable) lines.push(`Not read: ${u.dir}: ${u.why}`);
  return `${lines.join('\n')}\n`;
}

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** The history as one self-contained page, each run linked to its evidence when it has one. */
export function renderHistoryHtml(h: History): string {
  const sections = h.devices.map((d) => {
    const runCell = (r: HistoryRun) => {
      const evidence = join(r.dir, 'evidence.html');
      return existsSync(evidence)
        ? `<a href="file://${esc(evidence)}">${esc(runLabel(r))}</a>`
        : esc(runLabel(r));
    };
    const counts = `<table class="history-counts"><tr><th>run</th><th>firmware</th>${VERDICT_ORDER.map((v) => `<th><span class="v v-${v}">${v}</span></th>`).join('')}</tr>${d.runs
      .map(
        (r) =>
          `<tr><td>${runCell(r)}</td><td>${esc(r.firmware)}</td>${VERDICT_ORDER.map((v) => `<td>${r.verdicts[v] ?? 0}</td>`).join('')}</tr>`,
      )
      .join('')}</table>`;
    const changes = d.changedQuestions.length
      ? `<table class="history-answers"><tr><th>question</th>${d.runs.map((_, i) => `<th>#${i + 1}</th>`).join('')}</tr>${d.changedQuestions
          .map(
            (q) =>
              `<tr data-question="${esc(q.id)}"><td>${esc(q.question)}</td>${d.runs
                .map((r) => {
                  const a = r.answers.get(q.id) ?? '—';
                  return `<td class="a-${esc(a)}">${esc(a)}</td>`;
                })
                .join('')}</tr>`,
          )
          .join('')}</table>`
      : '<p>No trust-model answer changed across these runs.</p>';
    return `<section class="device"><h2>${esc(d.model)} — ${esc(d.device)} (${d.runs.length} run(s))</h2>${counts}<h3>Trust-model answers that changed</h3>${changes}</section>`;
  });
  const unread = h.unreadable
    .map((u) => `<p class="muted">Not read: ${esc(u.dir)}: ${esc(u.why)}</p>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>TrustLab history</title><style>${STYLE}table{display:block;overflow-x:auto;max-width:100%}</style></head>
<body><h1>TrustLab history (${esc(h.profile)})</h1>
${sections.join('\n')}${unread}
</body></html>
`;
}
