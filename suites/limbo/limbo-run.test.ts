import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOOPBACK_LAB } from '../../contracts/case.ts';
import { openDevice } from '../../harness/runner/device.ts';
import { contractProblem } from '../../reports/contract.ts';
import { LIMBO_RESULTS_FILE } from '../../reports/limbo/limbo-results.ts';
import { executeCase } from '../execute.ts';
import { defaultMatrix } from '../matrix.ts';
import { labPublicRootPem, virtualLabNetwork } from '../plan-case.ts';
import { exportCatalogue } from './limbo-export.ts';
import { type LimboRunSettings, runLimbo, sha256File } from './limbo-run.ts';
import { limboProblem, PINNED_LIMBO } from './limbo-suite.ts';

const settingsFor = (file: string, cases?: string[]): LimboRunSettings => ({
  driver: 'quectel',
  lab: LOOPBACK_LAB,
  limboFile: file,
  limboSha256: sha256File(file),
  ...(cases ? { cases } : {}),
});

describe('limbo cases on the virtual modem, over the wire', () => {
  it('judges each run case from both ends, writes limbo-format results that validate, and resumes without running again', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'trustlab-limbo-run-'));
    const cases = [
      'webpki::san::exact-dns-san',
      'webpki::san::mismatch-domain-san',
      'webpki::san::exact-localhost-ip-san',
      'rfc5280::ee-critical-aia-invalid',
      'crl::revoked-certificate-with-crl',
    ];
    const first = await runLimbo(settingsFor(PINNED_LIMBO, cases), outDir, 'test');
    const by = new Map(first.records.map((r) => [r.case, r]));
    const ok = by.get('webpki::san::exact-dns-san');
    expect(ok?.outcome).toBe('accepted');
    expect(ok?.verdicts.limbo).toBe('conformant');
    expect(ok?.server.sni).toBe('example.com');
    expect(ok?.server.mqttConnect?.clientId).toBe(ok?.mqtt?.clientId);
    // An IP literal reaches the loopback broker through the address map; the client still checks the literal.
    const ip = by.get('webpki::san::exact-localhost-ip-san');
    expect(ip?.outcome).toBe('accepted');
    const wrongName = by.get('webpki::san::mismatch-domain-san');
    expect(wrongName?.outcome).toBe('rejected');
    expect(wrongName?.verdicts.limbo).toBe('conformant');
    expect(wrongName?.server.handshake).not.toBe('completed');
    for (const r of first.records.filter((x) => x.outcome === 'accepted' || x.outcome === 'rejected'))
      expect(r.server.connections, r.case).toBeGreaterThan(0);
    const crl = by.get('crl::revoked-certificate-with-crl');
    expect(crl?.outcome).toBe('skipped');
    expect(crl?.verdicts.limbo).toBe('not-applicable');
    expect(crl?.server.connections).toBe(0);

    const results = JSON.parse(readFileSync(join(outDir, LIMBO_RESULTS_FILE), 'utf8'));
    expect(contractProblem('limbo-result', results)).toBeNull();
    const entry = (id: string) => results.results.find((x: { id: string }) => x.id === id);
    expect(entry('webpki::san::exact-dns-san').actual_result).toBe('SUCCESS');
    expect(entry('webpki::san::mismatch-domain-san').actual_result).toBe('FAILURE');
    expect(entry('webpki::san::mismatch-domain-san').context).toMatch(/device: .*; server: handshake /);
    expect(entry('crl::revoked-certificate-with-crl')).toMatchObject({ actual_result: 'SKIPPED' });
    expect(readFileSync(first.files.markdown, 'utf8')).toMatch(/\| webpki \| 3 \| 3 \|/);

    const again = await runLimbo(settingsFor(PINNED_LIMBO, cases), outDir, 'test');
    expect(again.records.map((r) => r.startedAt)).toEqual(first.records.map((r) => r.startedAt));
  }, 120_000);

  it('exports the catalogue as limbo testcases that validate, and running them back gives what trustlab run gives on the same device', async () => {
    const picked = new Set([
      'anchors::right-ca',
      'anchors::wrong-ca',
      'names::san-mismatch',
      'validity::leaf-expired',
      'names::cn-only-no-san',
      'names::ip-literal-ip-san',
      'chains::reverse-order',
      'signatures::sha1-leaf',
    ]);
    const matrix = defaultMatrix().filter((c) => picked.has(c.id));
    expect(matrix).toHaveLength(picked.size);
    const exported = await exportCatalogue(new Date(), matrix);
    expect(limboProblem(exported.suite)).toBeNull();
    expect(
      exported.suite.testcases.every((t) => t.id.startsWith('trustlab::') && t.peer_certificate_key),
    ).toBe(true);
    const split = exported.suite.testcases.filter((t) => t.conflicts_with?.length);
    expect(split.length).toBeGreaterThan(0); // a case the profiles disagree on is exported once per profile
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-limbo-export-'));
    const file = join(dir, 'trustlab-limbo.json');
    writeFileSync(file, JSON.stringify(exported.suite));

    const viaLimbo = await runLimbo(settingsFor(file), join(dir, 'limbo-run'), 'test');
    const device = await openDevice({
      driver: 'quectel',
      network: virtualLabNetwork(LOOPBACK_LAB),
      builtinAnchorsPem: await labPublicRootPem(),
    });
    const viaRun = new Map<string, string>();
    try {
      for (const c of matrix) {
        const { record } = await executeCase(device, c, join(dir, 'run'), LOOPBACK_LAB, { attempts: 1 });
        viaRun.set(c.id, record.outcome);
      }
    } finally {
      await device.close();
    }
    for (const r of viaLimbo.records) {
      const origin = exported.origin.get(r.case) as string;
      expect(r.outcome, `${r.case} (trustlab run: ${origin})`).toBe(viaRun.get(origin));
    }
    expect(new Set(viaLimbo.records.map((r) => r.outcome))).toEqual(new Set(['accepted', 'rejected']));
  }, 300_000);
});
