import type { BehaviourSet, CaseBehaviour } from './behaviour.ts';

export interface FieldChange {
  readonly field: string;
  readonly before: string;
  readonly after: string;
}

export interface RunDiff {
  readonly baseline: Pick<BehaviourSet, 'source' | 'model' | 'firmware' | 'catalogueRevision'>;
  readonly candidate: Pick<BehaviourSet, 'source' | 'model' | 'firmware' | 'catalogueRevision'>;
  readonly changed: readonly { readonly case: string; readonly fields: readonly FieldChange[] }[];
  /** Cases only the candidate ran, and only the baseline ran. */
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly trustModel: readonly (FieldChange & { readonly id: string })[];
}

const show = (v: unknown): string =>
  v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);

/** Flattens a behaviour into field → value so any nested change is named precisely. */
function flatten(value: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      for (const [fk, fv] of flatten(v, prefix ? `${prefix}.${k}` : k)) out.set(fk, fv);
    }
  } else out.set(prefix, show(value));
  return out;
}

export function compareCase(before: CaseBehaviour, after: CaseBehaviour): FieldChange[] {
  const a = flatten(before);
  const b = flatten(after);
  const fields = [...new Set([...a.keys(), ...b.keys()])];
  return fields
    .filter((f) => f !== 'case' && (a.get(f) ?? '—') !== (b.get(f) ?? '—'))
    .map((field) => ({ field, before: a.get(field) ?? '—', after: b.get(field) ?? '—' }));
}

/** Behaviour changes from a baseline to a candidate run: by case, and by trust-model answer. */
export function diffBehaviour(baseline: BehaviourSet, candidate: BehaviourSet): RunDiff {
  const changed = [...baseline.cases].flatMap(([id, before]) => {
    const after = candidate.cases.get(id);
    const fields = after ? compareCase(before, after) : [];
    return fields.length > 0 ? [{ case: id, fields }] : [];
  });
  // Keyed by the question's id: rewording a question changes no diff.
  const answers = (set: BehaviourSet) => new Map((set.trustModel ?? []).map((a) => [a.id, a]));
  const before = answers(baseline);
  const after = answers(candidate);
  const trustModel = [...new Set([...before.keys(), ...after.keys()])]
    .filter((id) => (before.get(id)?.answer ?? '—') !== (after.get(id)?.answer ?? '—'))
    .map((id) => ({
      field: after.get(id)?.question ?? before.get(id)?.question ?? id,
      id,
      before: before.get(id)?.answer ?? '—',
      after: after.get(id)?.answer ?? '—',
    }));
  const meta = (s: BehaviourSet) => ({
    source: s.source,
    model: s.model,
    firmware: s.firmware,
    catalogueRevision: s.catalogueRevision,
  });
  return {
    baseline: meta(baseline),
    candidate: meta(candidate),
    changed,
    added: [...candidate.cases.keys()].filter((id) => !baseline.cases.has(id)),
    removed: [...baseline.cases.keys()].filter((id) => !candidate.cases.has(id)),
    trustModel,
  };
}

export const hasChanges = (d: RunDiff) =>
  d.changed.length + d.added.length + d.removed.length + d.trustModel.length > 0;

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** Markdown for a merge request: the headline, then each change in a table. */
export function renderDiffMarkdown(d: RunDiff): string {
  const who = (s: RunDiff['baseline']) => `${s.model} ${s.firmware}`;
  const lines = [`## TrustLab behaviour diff: ${who(d.baseline)} → ${who(d.candidate)}`, ''];
  lines.push(`Baseline \`${d.baseline.source}\`, candidate \`${d.candidate.source}\`.`);
  if (d.baseline.catalogueRevision !== d.candidate.catalogueRevision) {
    lines.push(
      '',
      `Note: the catalogues differ (revision ${d.baseline.catalogueRevision ?? '—'} → ${d.candidate.catalogueRevision ?? '—'}); changed expectations show up as verdict changes.`,
    );
  }
  lines.push('');
  if (!hasChanges(d)) {
    lines.push('**No behaviour change.**');
    return `${lines.join('\n')}\n`;
  }
  const total = d.changed.length + d.added.length + d.removed.length;
  lines.push(`**${total} case(s) and ${d.trustModel.length} trust-model answer(s) changed.**`, '');
  if (d.trustModel.length) {
    lines.push('### Trust model', '', '| question | before | after |', '|---|---|---|');
    for (const t of d.trustModel) lines.push(`| ${cell(t.field)} | ${t.before} | ${t.after} |`);
    lines.push('');
  }
  if (d.changed.length) {
    lines.push('### Cases', '', '| case | field | before | after |', '|---|---|---|---|');
    for (const c of d.changed)
      for (const f of c.fields)
        lines.push(`| ${cell(c.case)} | ${f.field} | ${cell(f.before)} | ${cell(f.after)} |`);
    lines.push('');
  }
  if (d.added.length) lines.push(`Only in the candidate: ${d.added.map((c) => `\`${c}\``).join(', ')}`, '');
  if (d.removed.length)
    lines.push(`Only in the baseline: ${d.removed.map((c) => `\`${c}\``).join(', ')}`, '');
  return `${lines.join('\n')}\n`;
}
