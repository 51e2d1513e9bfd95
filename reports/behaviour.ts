import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contractProblem, readContractFile } from './contract.ts';
import { readTrustModel, type TrustModelAnswer } from './evidence/trust-model.ts';
import type { CaseRecord } from './record.ts';
import { latestPerCase, RESULTS_FILE, readRecords } from './results-log.ts';
import { readRunManifest } from './run-manifest.ts';

/**
 * What a device did in one case, without what legitimately varies run to run (timestamps, nonces,
 * certificate fingerprints and validity dates, ports, transcripts). Two runs of the same firmware
 * give equal behaviours; a firmware change that matters shows up here.
 */
export interface CaseBehaviour {
  readonly case: string;
  readonly params: Readonly<Record<string, string | number>>;
  readonly outcome: string;
  readonly verdicts: Readonly<Record<string, string>>;
  readonly codes: readonly string[];
  readonly server: {
    readonly handshake: string;
    readonly sni: string | null;
    readonly clientAlert: string | null;
    readonly negotiated: string | null;
    readonly mqttConnect: boolean;
    readonly publishes: number;
    readonly offeredVersions: readonly string[] | null;
    readonly cipherSuites: readonly number[] | null;
    readonly extensions: readonly number[] | null;
  };
}

/** Ports and long hex runs (nonces, checksums) inside raw codes are not behaviour. */
const normalizeCode = (code: string) =>
  code
    .replace(/\b[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/(["']?)(\d{1,3}(?:\.\d{1,3}){3})\1,\d{2,5}\b/g, '$1$2$1,<port>');

export function behaviourOf(r: CaseRecord): CaseBehaviour {
  const s = r.server;
  return {
    case: r.case,
    params: r.params,
    outcome: r.outcome,
    verdicts: r.verdicts,
    codes: r.codes.map(normalizeCode),
    server: {
      handshake: s.handshake,
      sni: s.sni,
      clientAlert: s.clientAlert ? `${s.clientAlert.number} ${s.clientAlert.name}` : null,
      negotiated: s.negotiated ? `${s.negotiated.version} ${s.negotiated.cipher}` : null,
      mqttConnect: s.mqttConnect !== null,
      publishes: s.publishes.length,
      offeredVersions: s.clientHello?.offeredVersions ?? null,
      cipherSuites: s.clientHello?.cipherSuites ?? null,
      extensions: s.clientHello?.extensions ?? null,
    },
  };
}

/** A run folder or a stored baseline, reduced to what diff compares. */
export interface BehaviourSet {
  readonly source: string;
  readonly model: string;
  readonly firmware: string;
  readonly catalogueRevision: string | null;
  readonly cases: ReadonlyMap<string, CaseBehaviour>;
  readonly trustModel: readonly TrustModelAnswer[] | null;
}

export const BEHAVIOUR_FILE = 'behaviour.jsonl';
export const BASELINE_META_FILE = 'baseline.json';

export interface BaselineMeta {
  readonly model: string;
  readonly firmware: string;
  readonly catalogueRevision: string | null;
  readonly harnessCommit: string | null;
  readonly fromRun: string;
  readonly device: string | null;
}

/** Loads a run folder (results.jsonl) or a baseline folder (behaviour.jsonl). */
/** A baseline's behaviour.jsonl, every line checked against its contract; a bad line is named. */
function readBehaviourLines(file: string): CaseBehaviour[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      if (line.trim() === '') return [];
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`${file}: line ${i + 1}: not JSON; the file is left as it is`);
      }
      const problem = contractProblem('case-behaviour', value);
      if (problem) throw new Error(`${file}: line ${i + 1}: ${problem}; the file is left as it is`);
      return [value as CaseBehaviour];
    });
}

export function loadBehaviour(dir: string): BehaviourSet {
  if (existsSync(join(dir, BEHAVIOUR_FILE))) {
    const meta = readContractFile(join(dir, BASELINE_META_FILE), 'baseline-meta') as BaselineMeta;
    const cases = readBehaviourLines(join(dir, BEHAVIOUR_FILE));
    return {
      source: dir,
      model: meta.model,
      firmware: meta.firmware,
      catalogueRevision: meta.catalogueRevision,
      cases: new Map(cases.map((c) => [c.case, c])),
      trustModel: readTrustModel(dir),
    };
  }
  if (!existsSync(join(dir, RESULTS_FILE))) {
    throw new Error(`${dir} is neither a run folder (${RESULTS_FILE}) nor a baseline (${BEHAVIOUR_FILE})`);
  }
  const manifest = readRunManifest(dir);
  const records = latestPerCase(readRecords(join(dir, RESULTS_FILE)));
  return {
    source: dir,
    model: manifest?.identity?.model ?? records[0]?.device.model ?? 'unknown',
    firmware: manifest?.identity?.firmware ?? records[0]?.device.firmware ?? 'unknown',
    catalogueRevision: manifest?.catalogue?.revision ?? null,
    cases: new Map(records.map((r) => [r.case, behaviourOf(r)])),
    trustModel: readTrustModel(dir),
  };
}
