/**
 * `npm run limbo:docs`: the pinned x509-limbo suite on the virtual Quectel modem once per TLS engine,
 * written to docs/limbo/<engine>.md (counts per namespace and the anomalies), and, for OpenSSL and
 * GnuTLS, the same cases verified offline with the same library's command-line verifier on this
 * machine, written to docs/limbo/wire-vs-offline.md: which cases end differently on the wire, and
 * what the server saw there. An engine that is not available here is named and left out.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_FAMILY } from '../harness/families.ts';
import type { TlsEngineId } from '../harness/virtual-modem/tls/engine.ts';
import { TLS_ENGINES } from '../harness/virtual-modem/tls/engines.ts';
import { mbedtlsVerifyOffline } from '../harness/virtual-modem/tls/mbedtls-engine.ts';
import { renderAnomaliesMarkdown } from '../reports/limbo/anomalies.ts';
import { actualResultOf, serverSawOf } from '../reports/limbo/limbo-results.ts';
import type { CaseRecord } from '../reports/record.ts';
import { planLimboCase, ROUTE_EVERYTHING } from '../suites/limbo/limbo-plan.ts';
import { runLimbo, sha256File } from '../suites/limbo/limbo-run.ts';
import {
  type LimboTestcase,
  loadLimboSuite,
  PINNED_LIMBO,
  PINNED_REVISION,
} from '../suites/limbo/limbo-suite.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DOCS = join(ROOT, 'docs', 'limbo');
const ENGINES: readonly TlsEngineId[] = ['mbedtls', 'openssl', 'gnutls', 'node'];
const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short=12', 'HEAD'], {
  encoding: 'utf8',
}).trim();
const suite = loadLimboSuite();
const byId = new Map(suite.testcases.map((c) => [c.id, c]));

type Offline = 'SUCCESS' | 'FAILURE' | 'n/a';

/** `openssl verify` the way upstream's OpenSSL harness validates: the case's time, name and serverAuth purpose. */
function opensslOffline(c: LimboTestcase, dir: string): { result: Offline; words: string } {
  const plan = planLimboCase(c, ROUTE_EVERYTHING);
  if (!('plan' in plan)) return { result: 'n/a', words: '' };
  writeFileSync(join(dir, 'ca.pem'), plan.plan.anchorsPem);
  writeFileSync(join(dir, 'untrusted.pem'), c.untrusted_intermediates.join('\n'));
  writeFileSync(join(dir, 'leaf.pem'), c.peer_certificate);
  const name = plan.plan.dial;
  const args = [
    'verify',
    '-no-CApath',
    '-no-CAstore',
    '-CAfile',
    join(dir, 'ca.pem'),
    '-purpose',
    'sslserver',
  ];
  args.push('-attime', String(Math.floor(plan.plan.clock.getTime() / 1000)));
  if (c.untrusted_intermediates.length > 0) args.push('-untrusted', join(dir, 'untrusted.pem'));
  args.push(plan.plan.dialKind === 'IP' ? '-verify_ip' : '-verify_hostname', name, join(dir, 'leaf.pem'));
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 20_000 });
  const words = `${r.stdout}${r.stderr}`.split('\n').find((l) => /error \d+ at/.test(l)) ?? '';
  return { result: r.status === 0 ? 'SUCCESS' : 'FAILURE', words: words.replace(/^.*error/, 'error').trim() };
}

/** `certtool --verify` (GnuTLS); it cannot be given a time, so only cases validated "now" are compared. */
function gnutlsOffline(c: LimboTestcase, dir: string): { result: Offline; words: string } {
  const plan = planLimboCase(c, ROUTE_EVERYTHING);
  if (!('plan' in plan) || plan.plan.clockFrom !== 'now') return { result: 'n/a', words: '' };
  writeFileSync(join(dir, 'ca.pem'), plan.plan.anchorsPem);
  writeFileSync(join(dir, 'chain.pem'), plan.plan.servedChainPem);
  const args = ['--verify', '--load-ca-certificate', join(dir, 'ca.pem'), '--infile', join(dir, 'chain.pem')];
  args.push('--verify-hostname', plan.plan.dial, '--verify-purpose', '1.3.6.1.5.5.7.3.1');
  const r = spawnSync('certtool', args, { encoding: 'utf8', timeout: 20_000 });
  const words = `${r.stdout}${r.stderr}`.split('\n').find((l) => /Chain verification output/.test(l)) ?? '';
  return { result: r.status === 0 ? 'SUCCESS' : 'FAILURE', words: words.trim() };
}

/** mbedTLS 2.28's own X.509 verification (the engine's client, `--verify-chain`), what upstream has no harness for. */
async function mbedtlsOffline(c: LimboTestcase, dir: string): Promise<{ result: Offline; words: string }> {
  const plan = planLimboCase(c, ROUTE_EVERYTHING);
  if (!('plan' in plan)) return { result: 'n/a', words: '' };
  writeFileSync(join(dir, 'ca.pem'), plan.plan.anchorsPem);
  writeFileSync(join(dir, 'chain.pem'), plan.plan.servedChainPem);
  const r = await mbedtlsVerifyOffline({
    anchorsFile: join(dir, 'ca.pem'),
    chainFile: join(dir, 'chain.pem'),
    checkName: plan.plan.dial,
    now: plan.plan.clock,
  });
  return { result: r.ok ? 'SUCCESS' : 'FAILURE', words: r.words };
}

type OfflineVerifier = (c: LimboTestcase, dir: string) => Promise<{ result: Offline; words: string }>;
const OFFLINE: Partial<Record<TlsEngineId, OfflineVerifier>> = {
  mbedtls: mbedtlsOffline,
  openssl: async (c, dir) => opensslOffline(c, dir),
  gnutls: async (c, dir) => gnutlsOffline(c, dir),
};

const OFFLINE_HOW: Partial<Record<TlsEngineId, string>> = {
  gnutls:
    '`certtool --verify --verify-purpose serverAuth` takes no validation time, so only cases limbo validates "now" are compared.',
  openssl:
    '`openssl verify -purpose sslserver -attime <validation_time> -verify_hostname|-verify_ip <peer>`.',
  mbedtls:
    "`mbedtls_x509_crt_verify_with_profile` with the handshake's default profile, name (IP literals against iPAddress SANs, as the strict personality does) and clock: the engine's own client with `--verify-chain`.",
};

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const comparison: string[] = [];
const index: string[] = [];
for (const engine of ENGINES) {
  const available = await TLS_ENGINES[engine].available();
  if (!available.ok) {
    index.push(`| ${engine} | not available here: ${available.reason} | | | | |`);
    continue;
  }
  const outDir = mkdtempSync(join(tmpdir(), `trustlab-limbo-docs-${engine}-`));
  const settings = {
    driver: DEFAULT_FAMILY,
    engine,
    lab: { dialHost: '127.0.0.1', listenHost: '127.0.0.1' },
    limboFile: PINNED_LIMBO,
    limboSha256: sha256File(PINNED_LIMBO),
  };
  const { records } = await runLimbo(settings, outDir, `trustlab@${commit}`);
  const count = (v: string) => records.filter((r) => r.verdicts.limbo === v).length;
  index.push(
    `| [${engine}](${engine}.md) | ${count('conformant')} | ${count('lenient')} | ${count('strict')} | ${count('not-applicable')} | ${count('inconclusive') + count('blocked')} |`,
  );
  const facts = {
    device: `the virtual ${DEFAULT_FAMILY} modem, its default personality`,
    engine,
    suite: 'pinned copy',
    revision: PINNED_REVISION,
    harness: `trustlab@${commit}`,
  };
  writeFileSync(join(DOCS, `${engine}.md`), renderAnomaliesMarkdown(records, facts));
  const offline = OFFLINE[engine];
  if (offline) {
    const work = mkdtempSync(join(tmpdir(), 'trustlab-limbo-offline-'));
    const differ: string[] = [];
    let compared = 0;
    for (const r of records as CaseRecord[]) {
      if (r.outcome !== 'accepted' && r.outcome !== 'rejected') continue;
      const c = byId.get(r.case) as LimboTestcase;
      const o = await offline(c, work);
      if (o.result === 'n/a') continue;
      compared++;
      const wire = actualResultOf(r.outcome);
      if (wire === o.result) continue;
      differ.push(
        `| \`${r.case}\` | ${c.expected_result} | ${o.result} ${cell(o.words)} | ${wire} | ${cell(serverSawOf(r))}${r.virtualTls?.reason ? `; ${cell(r.virtualTls.reason)}` : ''} |`,
      );
    }
    rmSync(work, { recursive: true, force: true });
    comparison.push(
      `## ${engine}: ${differ.length} of ${compared} compared cases differ`,
      '',
      OFFLINE_HOW[engine] ?? '',
      '',
      "| case | limbo expects | offline | on the wire | what the server saw; the stack's words |",
      '|---|---|---|---|---|',
      ...differ,
      '',
    );
  }
  rmSync(outDir, { recursive: true, force: true });
}

writeFileSync(
  join(DOCS, 'README.md'),
  [
    '# x509-limbo on the wire: the virtual modem per TLS engine',
    '',
    `Written by \`npm run limbo:docs\` at trustlab@${commit}, x509-limbo ${PINNED_REVISION}: every case of the pinned`,
    `suite through \`trustlab limbo\` on the virtual ${DEFAULT_FAMILY} modem (its default personality), once per engine.`,
    'Skipped cases ask for something a modem cannot be given (CRLs, a chain-depth bound, no peer name,',
    'no peer key, a validation time a running device clock could carry across a validity edge), or',
    "carry a certificate the lab's TLS server cannot present to what the engine offers;",
    'each engine page lists them with the reason.',
    '',
    '| engine | conformant | lenient | strict | skipped | inconclusive or blocked |',
    '|---|---|---|---|---|---|',
    ...index,
    '',
    'Wire against offline, same library: [wire-vs-offline.md](wire-vs-offline.md).',
    '',
  ].join('\n'),
);
writeFileSync(
  join(DOCS, 'wire-vs-offline.md'),
  [
    '# Wire against offline',
    '',
    "Upstream publishes its harnesses' results on its site, built in CI; they are not in its repository,",
    "so this compares against the same libraries verifying offline on this machine, as upstream's",
    'harnesses do (the OpenSSL engine is OpenSSL 3.0 here, GnuTLS the gnutls-cli of this machine);',
    "for mbedTLS 2.28, which upstream has no harness for, the engine's own client verifies offline.",
    'The wire result is what the virtual modem did; the offline one what the library says of the',
    'certificates alone.',
    'A row is a case whose result on the wire (the virtual modem dialling a real TLS server with the',
    "engine's client) differs from the offline verification of the same certificates.",
    '',
    ...comparison,
  ].join('\n'),
);
console.log(`limbo docs written to ${DOCS}`);
