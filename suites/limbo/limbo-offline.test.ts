import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { mbedtlsEngine, mbedtlsVerifyOffline } from '../../harness/virtual-modem/tls/mbedtls-engine.ts';
import { planLimboCase, ROUTE_EVERYTHING } from './limbo-plan.ts';
import { loadLimboSuite } from './limbo-suite.ts';

const mbedtls = await mbedtlsEngine.available();
const suite = loadLimboSuite();

async function offline(id: string) {
  const c = suite.testcases.find((t) => t.id === id);
  const planned = c && planLimboCase(c, ROUTE_EVERYTHING);
  if (!planned || !('plan' in planned)) throw new Error(`${id} is not runnable`);
  const dir = mkdtempSync(join(tmpdir(), 'trustlab-mbedtls-offline-'));
  writeFileSync(join(dir, 'ca.pem'), planned.plan.anchorsPem);
  writeFileSync(join(dir, 'chain.pem'), planned.plan.servedChainPem);
  return mbedtlsVerifyOffline({
    anchorsFile: join(dir, 'ca.pem'),
    chainFile: join(dir, 'chain.pem'),
    checkName: planned.plan.dial,
    now: planned.plan.clock,
  });
}

it('verifies a limbo chain offline with mbedTLS 2.28: a good chain passes, a wrong name fails with its flag, EKU is left to the TLS layer', async (ctx) => {
  if (!mbedtls.ok) ctx.skip(mbedtls.reason);
  await expect(offline('webpki::san::exact-dns-san')).resolves.toMatchObject({ ok: true });
  const mismatch = await offline('webpki::san::mismatch-domain-san');
  expect(mismatch.ok).toBe(false);
  expect(mismatch.words).toMatch(/CN|name/i);
  // X.509 verification in mbedTLS never looks at extendedKeyUsage; its TLS client does (alert 43 on the wire).
  await expect(offline('rfc5280::eku::ee-wrong-eku')).resolves.toMatchObject({ ok: true });
});
