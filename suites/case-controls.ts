import type { EndpointHandle } from '../brokers/endpoint.ts';
import type { LabNetwork } from '../contracts/case.ts';
import { DEFAULT_INTENT } from '../harness/drivers/tls-intent.ts';
import type { CaseEndpoint } from '../harness/runner/run-case.ts';
import { startCaseEndpoint } from '../harness/runner/run-case.ts';
import type { ControlRequest, ControlResult } from './controls/control.ts';
import { type ControlJudgement, judgeControls } from './controls/judge-controls.ts';
import { runControls } from './controls/run-controls.ts';
import { twinCaseOf } from './matrix.ts';
import { entryOf, type LabNames, pkiFor, serverFor } from './plan-case.ts';
import type { MatrixCase } from './scenario-model.ts';

export interface CaseControls {
  /** Every reference client's result, on the case's endpoint and (for a defect) on its twin's. */
  readonly results: readonly (ControlResult & { readonly against: 'case' | 'twin' })[];
  readonly check: ControlJudgement;
}

/** What the reference clients connect to: a case's built chain and a port serving it. */
export interface ControlTarget {
  readonly hierarchy: CaseEndpoint['hierarchy'];
  readonly endpoint: Pick<EndpointHandle, 'listenPort'>;
}

/** Reference clients connect where the endpoint listens (a wildcard listen address means loopback). */
const connectHostOf = (lab: LabNetwork) =>
  lab.listenHost === '0.0.0.0' || lab.listenHost === '::' ? '127.0.0.1' : lab.listenHost;

function requestFor(c: MatrixCase, started: ControlTarget, lab: LabNetwork): ControlRequest {
  const entry = entryOf(c.scenario);
  const h = started.hierarchy;
  const serverTarget = entry.expect.openssl.target === 'server';
  return {
    connectHost: connectHostOf(lab),
    port: started.endpoint.listenPort,
    dialledHost: h.dialledHost,
    sni: c.settings.sni === 1,
    anchorsPem: h.anchorsPem,
    ...(h.client ? { clientCert: { certPem: h.client.chainPem, keyPem: h.client.keyPem } } : {}),
    ...(serverTarget ? { opensslVerifyFlags: entry.expect.openssl.flags } : {}),
  };
}

/** The reference clients against a fresh endpoint serving the case's twin. */
async function twinControls(
  c: MatrixCase,
  names: LabNames,
  lab: LabNetwork,
  serverDefect: boolean,
): Promise<{ readonly results: (ControlResult & { against: 'twin' })[] } | { readonly skip: string }> {
  // A server-behaviour defect's twin serves the case's own chain; a certificate defect's, the entry's twin chain.
  const twinPki = pkiFor(c.scenario, c.settings, names, serverDefect ? c.scenario.certs.variant : 'twin');
  if ('skip' in twinPki) return { skip: twinPki.skip };
  const twinStarted = await startCaseEndpoint(
    {
      id: `${c.id}~twin`,
      pki: twinPki.pki,
      intent: DEFAULT_INTENT,
      // A server-behaviour defect's twin is its chain served the twin's way; a certificate defect's
      // twin is served as the case is.
      server: serverFor(serverDefect ? (twinCaseOf(c) ?? c) : c),
    },
    lab,
  );
  try {
    const results = await runControls(requestFor(c, twinStarted, lab));
    return { results: results.map((r) => ({ ...r, against: 'twin' as const })) };
  } finally {
    await twinStarted.endpoint.stop();
  }
}

/**
 * The reference controls of one case, without the device: against the case's own endpoint, and for
 * a defect also against a fresh endpoint serving its twin. The twin must pass and the defect must
 * fail for its own reason, else the case is control-failed.
 */
export async function runCaseControls(
  c: MatrixCase,
  started: ControlTarget,
  names: LabNames,
  lab: LabNetwork,
): Promise<CaseControls> {
  const entry = entryOf(c.scenario);
  // A server-behaviour defect (an old TLS version) serves a valid chain: a reference client at its
  // default policy must refuse it, and its twin (the same chain served normally) must pass.
  const serverDefect =
    c.scenario.kind === 'defect' && (c.scenario.certs.variant === 'twin' || entry.kind === 'control');
  const isDefect = serverDefect || (c.scenario.certs.variant === 'spec' && entry.kind === 'defect');
  // The twin has its own endpoint, so its controls run alongside the case's own.
  const [onCase, twinRun] = await Promise.all([
    runControls(requestFor(c, started, lab)).then((rs) =>
      rs.map((r) => ({ ...r, against: 'case' as const })),
    ),
    isDefect ? twinControls(c, names, lab, serverDefect) : Promise.resolve(null),
  ]);
  if (!isDefect || twinRun === null)
    return { results: onCase, check: judgeControls(onCase, 'must-accept', null) };

  const expectation = !serverDefect && entry.expect.openssl.target === 'server' ? entry.expect.openssl : null;
  const defect = serverDefect ? judgeServerDefect(onCase) : judgeControls(onCase, 'defect', expectation);
  if ('skip' in twinRun)
    return { results: onCase, check: { ok: false, why: `twin not placed: ${twinRun.skip}` } };
  const onTwin = twinRun.results;
  const twin = judgeControls(onTwin, 'must-accept', null);
  const results = [...onCase, ...onTwin];
  if (!twin.ok) return { results, check: { ok: false, why: `twin: ${twin.why}` } };
  if (!defect.ok) return { results, check: { ok: false, why: `defect: ${defect.why}` } };
  return { results, check: { ok: true, why: `defect: ${defect.why}; twin ${twin.why}` } };
}

/**
 * A server-behaviour defect is confirmed when at least one reference client, at its default policy,
 * refuses it (the others' acceptance is recorded: GnuTLS's default priority still allows TLS 1.0).
 */
function judgeServerDefect(results: readonly ControlResult[]): { ok: boolean; why: string } {
  const refused = results.filter((r) => r.status === 'rejected');
  const accepted = results.filter((r) => r.status === 'accepted');
  const names = (rs: readonly ControlResult[]) =>
    rs.map((r) => `${r.client}${r.reason ? ` (${r.reason})` : ''}`).join('; ');
  if (refused.length === 0)
    return {
      ok: false,
      why: `no reference client refused the server's behaviour: ${names(accepted) || 'none ran'}`,
    };
  return {
    ok: true,
    why: `refused by ${names(refused)}${accepted.length > 0 ? `; accepted at its default policy by ${accepted.map((r) => r.client).join(', ')}` : ''}`,
  };
}
