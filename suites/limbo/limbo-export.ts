import { isIP } from 'node:net';
import { buildHierarchy } from '../../certs/factory.ts';
import { pemCertificates } from '../../certs/pem.ts';
import { LOOPBACK_LAB } from '../../contracts/case.ts';
import { defaultMatrix } from '../matrix.ts';
import { labNames, pkiFor } from '../plan-case.ts';
import type { ProfileName } from '../profiles.ts';
import { DEFAULT_SETTINGS, type MatrixCase } from '../scenario-model.ts';
import { type LimboSuite, type LimboTestcase, limboProblem } from './limbo-suite.ts';

/**
 * TrustLab's catalogue the other way round: each case a modem runs under default settings, as an
 * x509-limbo testcase others can run (its peer key included, so it can be served), its id prefixed
 * `trustlab::` so it cannot collide with upstream's. Where the profiles disagree, the case is
 * exported once per profile, each naming the other in `conflicts_with`.
 */

export const EXPORT_PREFIX = 'trustlab';

/** A limbo id segment: a letter first, then letters, digits, `-` and `.` only. */
const segment = (s: string) => s.replace(/[^A-Za-z0-9-.]+/g, '-').replace(/^[^A-Za-z]+/, 'x');

/** The limbo id of a TrustLab case (`names::san-mismatch[dial=ip]` → `trustlab::names::san-mismatch::dial-ip`). */
export function exportedIdOf(caseId: string, profile?: ProfileName): string {
  const [base, variation] = /^(.*?)(?:\[(.*)\])?$/.exec(caseId)?.slice(1) ?? [caseId];
  const parts = [EXPORT_PREFIX, ...(base ?? caseId).split('::').map(segment)];
  if (variation) parts.push(segment(variation.replaceAll('=', '-').replaceAll(',', '.')));
  if (profile) parts.push(profile === 'rfc5280' ? 'rfc5280' : segment(profile));
  return parts.join('::');
}

/** Why a case is not exported, or null: limbo describes a chain, a name and a time, nothing else. */
export function notExportable(c: MatrixCase): string | null {
  const differs = (Object.keys(DEFAULT_SETTINGS) as (keyof typeof DEFAULT_SETTINGS)[]).filter(
    (k) => k !== 'dial' && c.settings[k] !== DEFAULT_SETTINGS[k],
  );
  if (differs.length > 0) return `device settings ${differs.map((k) => `${k}=${c.settings[k]}`).join(', ')}`;
  if (Object.keys(c.scenario.server).length > 0)
    return `server behaviour ${Object.keys(c.scenario.server).join(', ')}`;
  return null;
}

async function testcasesOf(c: MatrixCase, at: Date): Promise<LimboTestcase[]> {
  const placed = pkiFor(c.scenario, c.settings, labNames(LOOPBACK_LAB, true));
  if ('skip' in placed) return [];
  const built = await buildHierarchy(placed.pki, { clock: at });
  const [peer, ...intermediates] = pemCertificates(built.servedChainPem);
  if (!peer) return [];
  const host = placed.pki.dialledHost;
  const base = {
    importance: 'medium',
    validation_kind: 'SERVER' as const,
    trusted_certs: pemCertificates(built.anchorsPem),
    untrusted_intermediates: intermediates,
    peer_certificate: peer,
    peer_certificate_key: built.serverKeyPem,
    validation_time: at.toISOString().replace('.000Z', 'Z'),
    signature_algorithms: [],
    key_usage: [],
    extended_key_usage: [],
    expected_peer_name: { kind: isIP(host) ? ('IP' as const) : ('DNS' as const), value: host },
    expected_peer_names: [],
    max_chain_depth: null,
    crls: [],
  };
  const result = (p: ProfileName) => (c.expected[p].result === 'accept' ? 'SUCCESS' : 'FAILURE');
  const describe = (p: ProfileName | null) =>
    [
      `TrustLab case \`${c.id}\`: ${c.scenario.title}.`,
      `Expected per TrustLab profile: ${(['rfc5280', 'webpki', 'mbedtls-2.28'] as const)
        .map(
          (q) => `${q} ${c.expected[q].result}${c.expected[q].because ? ` (${c.expected[q].because})` : ''}`,
        )
        .join('; ')}.`,
      ...(p ? [`This testcase carries the ${p} expectation.`] : []),
    ].join('\n\n');
  if (result('rfc5280') === result('webpki'))
    return [
      {
        ...base,
        id: exportedIdOf(c.id),
        features: [],
        conflicts_with: [],
        description: describe(null),
        expected_result: result('rfc5280'),
      },
    ];
  const rfc = exportedIdOf(c.id, 'rfc5280');
  const web = exportedIdOf(c.id, 'webpki');
  return [
    {
      ...base,
      id: rfc,
      features: ['rfc5280-incompatible-with-webpki'],
      conflicts_with: [web],
      description: describe('rfc5280'),
      expected_result: result('rfc5280'),
    },
    {
      ...base,
      id: web,
      features: [],
      conflicts_with: [rfc],
      description: describe('webpki'),
      expected_result: result('webpki'),
    },
  ];
}

export interface ExportedSuite {
  readonly suite: LimboSuite;
  /** Cases not exported, each with why. */
  readonly left: readonly { readonly case: string; readonly why: string }[];
  /** Exported id → TrustLab case id. */
  readonly origin: ReadonlyMap<string, string>;
}

/** The default matrix as a limbo suite, checked against upstream's schema before it is handed out. */
export async function exportCatalogue(
  at: Date = new Date(),
  matrix: readonly MatrixCase[] = defaultMatrix(),
): Promise<ExportedSuite> {
  const whole = new Date(Math.floor(at.getTime() / 1000) * 1000);
  const testcases: LimboTestcase[] = [];
  const left: { case: string; why: string }[] = [];
  const origin = new Map<string, string>();
  for (const c of matrix) {
    const why = notExportable(c);
    if (why) {
      left.push({ case: c.id, why });
      continue;
    }
    const made = await testcasesOf(c, whole);
    if (made.length === 0) left.push({ case: c.id, why: 'no PKI on a loopback lab' });
    for (const t of made) {
      testcases.push(t);
      origin.set(t.id, c.id);
    }
  }
  const suite: LimboSuite = { version: 1, testcases };
  const problem = limboProblem(suite);
  if (problem) throw new Error(`the exported catalogue does not meet the x509-limbo schema: ${problem}`);
  return { suite, left, origin };
}
