import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedesTlsEndpoint } from '../../../brokers/aedes-tls.ts';
import type { EndpointHandle } from '../../../brokers/endpoint.ts';
import { DEFAULT_INTENT, type TlsIntent } from '../../drivers/tls-intent.ts';
import { type FixturePki, makePki } from '../fixtures/pki.ts';
import { PERSONALITIES, type TrustPersonality } from '../personality.ts';
import { TEST_HOST } from '../testing.ts';
import { mbedtlsEngine } from '../tls/mbedtls-engine.ts';
import { quectelRig } from './rig.ts';

const mbedtls = await mbedtlsEngine.available();
const TLS12_SNI: TlsIntent = { ...DEFAULT_INTENT, version: 'TLSv1.2', deviceClock: 'ignore' };

interface Served {
  readonly pki: FixturePki;
  readonly endpoint: EndpointHandle;
}
const served: Record<string, Served> = {};

beforeAll(async () => {
  const specs = {
    valid: makePki(TEST_HOST),
    wrongName: makePki(TEST_HOST, { leafName: 'other.test' }),
    expired: makePki(TEST_HOST, { leafValidDays: { from: -30, to: -1 } }),
    rootNoBc: makePki(TEST_HOST, { rootWithoutBasicConstraints: true }),
    rootNoKu: makePki(TEST_HOST, { rootWithoutKeyUsage: true }),
    ipLeaf: makePki('127.0.0.1'),
  };
  for (const [name, pending] of Object.entries(specs)) {
    const pki = await pending;
    served[name] = {
      pki,
      endpoint: await startAedesTlsEndpoint({ chainPem: pki.chainPem, keyPem: pki.keyPem }),
    };
  }
}, 30_000);

afterAll(async () => {
  await Promise.all(Object.values(served).map((s) => s.endpoint.stop()));
});

interface CaseOptions {
  readonly anchors?: 'issuing' | 'unrelated';
  /** Changes from TLS 1.2, SNI on, server verification, the clock ignored. */
  readonly intent?: Partial<TlsIntent>;
  readonly dial?: string;
  /** AT lines sent before the case. */
  readonly before?: readonly string[];
  /** The clock the driver sets for the case (with `deviceClock: 'validate'`). */
  readonly clock?: Date;
}

/** One MQTT case through the real driver; returns what the device and the endpoint saw. */
async function runCase(personality: TrustPersonality, server: string, o: CaseOptions = {}) {
  const s = served[server] as Served;
  const rig = quectelRig(personality);
  try {
    await rig.driver.identify();
    for (const line of o.before ?? []) await rig.at.commandOk(line, { timeoutMs: 2_000 });
    const before = s.endpoint.observations().length;
    const outcome = await rig.driver.runMqttCase({
      caseId: `${personality.name}-${server}`,
      anchorsPem: o.anchors === 'unrelated' ? s.pki.unrelatedRootPem : s.pki.rootPem,
      host: o.dial ?? TEST_HOST,
      port: s.endpoint.listenPort,
      intent: { ...TLS12_SNI, ...(o.clock ? { deviceClock: 'validate' as const } : {}), ...o.intent },
      clientId: 'vm-personality',
      topic: 'trustlab/vm',
      payload: 'hello',
      ...(o.clock ? { clock: o.clock } : {}),
    });
    await s.endpoint.settle(3_000);
    const seen = s.endpoint.observations().slice(before);
    return { outcome, seen, tls: rig.modem.tlsAttempts().at(-1) ?? null, files: rig.modem.files() };
  } finally {
    rig.close();
  }
}

const needsMbedtls = (ctx: { skip: (r: string) => void }) => {
  if (!mbedtls.ok) ctx.skip(`mbedTLS engine unavailable: ${mbedtls.reason}`);
};

describe('strict: uploaded CA only, the dialled name checked', () => {
  const p = PERSONALITIES.strict;

  it('accepts the foundation pair’s right CA and publishes; the endpoint sees SNI and the publish', async () => {
    const r = await runCase(p, 'valid');
    expect(r.outcome.reached).toEqual({ tlsOpened: true, mqttConnected: true, publishAcked: true });
    expect(r.seen[0]?.clientHello?.sni).toBe(TEST_HOST);
    expect(r.seen[0]?.mqttPublishes.map((x) => x.payload)).toEqual(['hello']);
    expect(r.tls?.engine).toBe(mbedtls.ok ? 'mbedtls' : 'node');
    expect([...r.files.keys()]).toEqual([]); // the driver removed its upload
  });

  it('rejects the wrong CA with +QMTOPEN: 1,-1; mbedTLS sends unknown_ca', async () => {
    const r = await runCase(p, 'valid', { anchors: 'unrelated' });
    expect(r.outcome.reached.tlsOpened).toBe(false);
    expect(r.outcome.codes.find((c) => c.step === 'open')?.raw).toBe('+QMTOPEN: 1,-1');
    if (mbedtls.ok) expect(r.seen[0]?.clientAlert?.number).toBe(48);
    expect(r.seen[0]?.mqttConnect).toBeNull();
  });

  it('rejects a certificate for another name', async () => {
    expect((await runCase(p, 'wrongName')).outcome.reached.tlsOpened).toBe(false);
  });

  it('checks the name even with SNI off, and then sends no SNI', async () => {
    const off = { sni: false } as const;
    const ok = await runCase(p, 'valid', { intent: off });
    expect(ok.outcome.reached.tlsOpened).toBe(true);
    expect(ok.seen[0]?.clientHello?.sni).toBeNull();
    expect((await runCase(p, 'wrongName', { intent: off })).outcome.reached.tlsOpened).toBe(false);
  });

  it('dials an IP literal: matches the IP SAN and sends no SNI (RFC 6066)', async () => {
    const r = await runCase(p, 'ipLeaf', { dial: '127.0.0.1' });
    expect(r.outcome.reached.publishAcked).toBe(true);
    expect(r.seen[0]?.clientHello?.sni).toBeNull();
  });

  it('ignores validity by default (ignorelocaltime 1) and rejects an expired leaf with ignorelocaltime 0', async () => {
    expect((await runCase(p, 'expired')).outcome.reached.tlsOpened).toBe(true);
    const strictTime = await runCase(p, 'expired', { intent: { deviceClock: 'validate' } });
    expect(strictTime.outcome.reached.tlsOpened).toBe(false);
    if (mbedtls.ok) expect(strictTime.seen[0]?.clientAlert?.number).toBe(45);
  });

  it('judges validity by the module clock set with AT+CCLK', async () => {
    const late = new Date(Date.now() + 200 * 86_400_000);
    expect((await runCase(p, 'valid', { clock: late })).outcome.reached.tlsOpened).toBe(false);
    expect((await runCase(p, 'valid', { clock: new Date() })).outcome.reached.tlsOpened).toBe(true);
  });

  it('verifies nothing at seclevel 0', async () => {
    const r = await runCase(p, 'valid', {
      anchors: 'unrelated',
      intent: { peerVerification: 'none' },
    });
    expect(r.outcome.reached.publishAcked).toBe(true);
  });
});

describe('mbedtls-2.28: stock mbedTLS through the mbedTLS engine', () => {
  const p = PERSONALITIES['mbedtls-2.28'];

  it('accepts the right CA and rejects the wrong one (unknown_ca)', async (ctx) => {
    needsMbedtls(ctx);
    expect((await runCase(p, 'valid')).outcome.reached.publishAcked).toBe(true);
    const wrong = await runCase(p, 'valid', { anchors: 'unrelated' });
    expect(wrong.outcome.reached.tlsOpened).toBe(false);
    expect(wrong.seen[0]?.clientAlert?.number).toBe(48);
    expect(wrong.tls?.verifyFlags).toBe(0x08);
  });

  it('checks the name only when SNI sets the hostname: with SNI off a wrong name passes', async (ctx) => {
    needsMbedtls(ctx);
    expect((await runCase(p, 'wrongName')).outcome.reached.tlsOpened).toBe(false);
    const off = await runCase(p, 'wrongName', { intent: { sni: false } });
    expect(off.outcome.reached.tlsOpened).toBe(true);
    expect(off.seen[0]?.clientHello?.sni).toBeNull();
  });

  it('refuses a root without BasicConstraints and accepts a root without KeyUsage', async (ctx) => {
    needsMbedtls(ctx);
    const noBc = await runCase(p, 'rootNoBc');
    expect(noBc.outcome.reached.tlsOpened).toBe(false);
    expect(noBc.tls?.verifyFlags).toBe(0x08);
    expect((await runCase(p, 'rootNoKu')).outcome.reached.tlsOpened).toBe(true);
  });

  it('sends an IP literal as SNI and cannot match it (2.28 reads dNSName SANs only)', async (ctx) => {
    needsMbedtls(ctx);
    const r = await runCase(p, 'ipLeaf', { dial: '127.0.0.1' });
    expect(r.seen[0]?.clientHello?.sni).toBe('127.0.0.1');
    expect(r.outcome.reached.tlsOpened).toBe(false);
    expect(r.tls?.verifyFlags).toBe(0x04);
  });
});

describe('ec200u-observed: uploaded CA plus a built-in store, mbedTLS rules, +QMTOPEN code 4', () => {
  it('connects to a publicly rooted server although the uploaded CA is wrong (docs/001 observation 1)', async (ctx) => {
    needsMbedtls(ctx);
    const publicRoot = served.valid?.pki.rootPem ?? '';
    const p = { ...PERSONALITIES['ec200u-observed'], builtinAnchorsPem: publicRoot };
    const r = await runCase(p, 'valid', { anchors: 'unrelated' });
    expect(r.outcome.reached.publishAcked).toBe(true);
  });

  it('rejects a private root OpenSSL accepts (no BasicConstraints) with +QMTOPEN: 1,4 (observation 2)', async (ctx) => {
    needsMbedtls(ctx);
    const r = await runCase(PERSONALITIES['ec200u-observed'], 'rootNoBc');
    expect(r.outcome.codes.find((c) => c.step === 'open')?.raw).toBe('+QMTOPEN: 1,4');
  });

  it('still accepts a private root that meets mbedTLS’s rules, and rejects a wrong name', async (ctx) => {
    needsMbedtls(ctx);
    expect((await runCase(PERSONALITIES['ec200u-observed'], 'valid')).outcome.reached.tlsOpened).toBe(true);
    expect((await runCase(PERSONALITIES['ec200u-observed'], 'wrongName')).outcome.reached.tlsOpened).toBe(
      false,
    );
  });

  it('ec200u-store-only rejects even a fully valid private CA', async () => {
    const r = await runCase(PERSONALITIES['ec200u-store-only'], 'valid');
    expect(r.outcome.codes.find((c) => c.step === 'open')?.raw).toBe('+QMTOPEN: 1,4');
  });
});

describe('lenient: seclevel ignored', () => {
  it('connects with the wrong CA, to a wrong name and to an expired leaf', async () => {
    const p = PERSONALITIES.lenient;
    expect((await runCase(p, 'valid', { anchors: 'unrelated' })).outcome.reached.publishAcked).toBe(true);
    expect((await runCase(p, 'wrongName')).outcome.reached.tlsOpened).toBe(true);
    const expired = await runCase(p, 'expired', { intent: { deviceClock: 'validate' } });
    expect(expired.outcome.reached.tlsOpened).toBe(true);
  });
});

describe('nRF9160 firmware personalities (SNI)', () => {
  it('mfw-1.2.0 sends no SNI even when asked; mfw-1.2.3 sends the hostname', async () => {
    const old = await runCase(PERSONALITIES['mfw-1.2.0'], 'valid');
    expect(old.outcome.reached.tlsOpened).toBe(true);
    expect(old.seen[0]?.clientHello?.sni).toBeNull();
    const next = await runCase(PERSONALITIES['mfw-1.2.3'], 'valid');
    expect(next.seen[0]?.clientHello?.sni).toBe(TEST_HOST);
    expect((await runCase(PERSONALITIES['mfw-1.2.3'], 'wrongName')).outcome.reached.tlsOpened).toBe(false);
  });
});
