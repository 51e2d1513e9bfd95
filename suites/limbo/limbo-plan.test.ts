import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planLimboCase, ROUTE_EVERYTHING } from './limbo-plan.ts';
import { LimboFileError, type LimboTestcase, loadLimboSuite } from './limbo-suite.ts';

const suite = loadLimboSuite();
const byId = (id: string) => {
  const c = suite.testcases.find((t) => t.id === id);
  if (!c) throw new Error(`no case ${id} in the pinned suite`);
  return c;
};
const skipOf = (c: LimboTestcase, routes = ROUTE_EVERYTHING) => {
  const p = planLimboCase(c, routes);
  return 'skip' in p ? p.skip : null;
};

describe('the pinned x509-limbo suite', () => {
  it('loads, meets upstream schema, and holds the counts its README states', () => {
    expect(suite.testcases).toHaveLength(207);
    expect(suite.testcases.filter((c) => c.validation_kind === 'SERVER')).toHaveLength(197);
  });

  it('names the file, the case and the field of a malformed suite, and reads nothing of it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-limbo-bad-'));
    const bad = structuredClone(suite) as unknown as { testcases: Record<string, unknown>[] };
    (bad.testcases[3] as Record<string, unknown>).expected_result = 'MAYBE';
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    expect(() => loadLimboSuite(join(dir, 'bad.json'))).toThrow(
      /bad\.json: not an x509-limbo suite: \/testcases\/3\/expected_result \(case [^)]+\) must be equal to one of the allowed values/,
    );
    writeFileSync(join(dir, 'torn.json'), '{"version": 1, "testc');
    expect(() => loadLimboSuite(join(dir, 'torn.json'))).toThrow(LimboFileError);
    expect(() => loadLimboSuite(join(dir, 'absent.json'))).toThrow(/cannot read the limbo suite \(ENOENT\)/);
    const twice = { version: 1, testcases: [suite.testcases[0], suite.testcases[0]] };
    writeFileSync(join(dir, 'twice.json'), JSON.stringify(twice));
    expect(() => loadLimboSuite(join(dir, 'twice.json'))).toThrow(/appears twice/);
  });
});

describe('planning a limbo case for a modem', () => {
  it('serves the peer certificate then the intermediates exactly as listed, with every anchor in one file', () => {
    const c = byId('pathlen::intermediate-pathlen-may-increase');
    const p = planLimboCase(c, ROUTE_EVERYTHING);
    if (!('plan' in p)) throw new Error(p.skip);
    const pems = p.plan.servedChainPem.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    expect(pems).toHaveLength(1 + c.untrusted_intermediates.length);
    expect(p.plan.servedChainPem.startsWith(c.peer_certificate.trim())).toBe(true);
    expect(p.plan.anchorCount).toBe(c.trusted_certs.length);
    expect(p.plan.dial).toBe(c.expected_peer_name?.value);
  });

  it('skips what a modem cannot be given, each with its reason', () => {
    expect(skipOf(byId('crl::revoked-certificate-with-crl'))).toMatch(
      /CRL\(s\) given: a modem cannot be given a CRL/,
    );
    expect(skipOf(byId('pathlen::max-chain-depth-1-exhausted'))).toMatch(
      /max_chain_depth 1 with 2 intermediates/,
    );
    expect(skipOf(byId('rfc5280::nc::permitted-dn-match'))).toMatch(/no expected_peer_name/);
    expect(skipOf(byId('online::google.com'))).toMatch(/no peer_certificate_key/);
    const client = suite.testcases.find((c) => c.validation_kind === 'CLIENT') as LimboTestcase;
    expect(skipOf(client)).toMatch(/a CLIENT case/);
    const ku = { ...byId('webpki::san::exact-dns-san'), key_usage: ['digitalSignature'] };
    expect(skipOf(ku)).toMatch(/key_usage digitalSignature/);
    const eku = { ...byId('webpki::san::exact-dns-san'), extended_key_usage: ['clientAuth'] };
    expect(skipOf(eku)).toMatch(/extended_key_usage clientAuth/);
  });

  it('runs a depth bound no path through the given certificates can reach', () => {
    expect(skipOf(byId('pathlen::max-chain-depth-1'))).toBeNull();
    expect(skipOf(byId('pathological::intermediate-cycle-distinct-cas-max-depth'))).toBeNull();
  });

  it('skips a validation time a running device clock could carry across a validity edge, runs one clear of it', () => {
    expect(skipOf(byId('rfc5280::validity::expired-1-second'))).toMatch(/s before the notAfter edge of/);
    expect(skipOf(byId('rfc5280::validity::not-yet-valid-5-seconds'))).toMatch(/s before the notBefore edge/);
    // Exactly at notBefore: a clock read back a few seconds behind would make it not yet valid.
    expect(skipOf(byId('rfc5280::validity::notbefore-exact'))).toMatch(/0\.000 s before the notBefore edge/);
    const timed = suite.testcases.filter((t) => t.validation_time && t.validation_kind === 'SERVER');
    expect(timed.filter((t) => 'plan' in planLimboCase(t, ROUTE_EVERYTHING)).length).toBeGreaterThanOrEqual(
      3,
    );
    const c = byId('webpki::san::exact-dns-san');
    expect(skipOf({ ...c, validation_time: '1970-01-01T00:00:03Z' })).toMatch(/years 2000–2099/);
  });

  it('on a real device, runs only names and addresses the lab routes, and says which route is missing', () => {
    const routes = { names: new Set(['example.com']), addresses: new Set<string>() };
    expect(skipOf(byId('webpki::san::exact-dns-san'), routes)).toBeNull();
    expect(skipOf(byId('webpki::san::exact-localhost-ip-san'), routes)).toMatch(
      /no route from the address 127\.0\.0\.1 to its broker/,
    );
  });

  it('leaves at least 155 of the 197 SERVER cases to run on a virtual modem', () => {
    const run = suite.testcases.filter((c) => 'plan' in planLimboCase(c, ROUTE_EVERYTHING));
    expect(run.length).toBeGreaterThanOrEqual(155);
  });
});
