import tls from 'node:tls';
import mqtt from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toolAvailable } from '../harness/tools/find-tool.ts';
import { mbedtlsEngine } from '../harness/virtual-modem/tls/mbedtls-engine.ts';
import { type EndpointConfig, type EndpointHandle, EndpointUnsupportedError } from './endpoint.ts';
import type { ConnectionObservation, EngineName } from './observation.ts';
import { engineUnavailable, startEndpoint } from './start-endpoint.ts';
import { gnutlsCli, pemFiles, recordCountingRelay, sClient } from './testing/clients.ts';
import { buildLabPki, type LabPki } from './testing/lab-pki.ts';

/**
 * The same observation tests for every MQTT engine. An engine that cannot honour a config skips
 * with the engine's own reason (EndpointUnsupportedError), never silently.
 */
const hasOpenssl = await toolAvailable('openssl');
const hasGnutls = await toolAvailable('gnutls-cli', ['--version']);
const MQTT_ENGINES: EngineName[] = ['aedes', 'mosquitto', 'mosquitto-container'];

let pki: LabPki;
let files: Record<string, string>;
beforeAll(async () => {
  pki = await buildLabPki();
  files = pemFiles({
    root: pki.rootPem,
    unrelated: pki.unrelatedRootPem,
    client: pki.clientCertPem,
    clientKey: pki.clientKeyPem,
    stranger: pki.strangerCertPem,
    strangerKey: pki.strangerKeyPem,
  });
});

const fullChain = () => pki.leafPem + pki.intermediatePem;

describe.each(MQTT_ENGINES)('%s endpoint', (engine) => {
  let endpoint: EndpointHandle | null = null;
  afterEach(async () => {
    await endpoint?.stop();
    endpoint = null;
  });

  /** Starts the engine or skips the test with the reason it cannot run here. */
  async function start(
    ctx: { skip: (reason: string) => never },
    extra: Partial<EndpointConfig> = {},
  ): Promise<EndpointHandle> {
    const missing = await engineUnavailable(engine);
    if (missing) ctx.skip(missing);
    try {
      endpoint = await startEndpoint(engine, { chainPem: fullChain(), keyPem: pki.leafKeyPem, ...extra });
    } catch (err) {
      if (err instanceof EndpointUnsupportedError) ctx.skip(err.message);
      throw err;
    }
    return endpoint;
  }

  async function only(ep: EndpointHandle): Promise<ConnectionObservation> {
    await ep.settle(5_000);
    const all = ep.observations();
    expect(all).toHaveLength(1);
    return all[0] as ConnectionObservation;
  }

  it('records a good mqtt.js client: SNI, handshake, CONNECT, PUBLISH, client closed', async (ctx) => {
    const ep = await start(ctx);
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${ep.listenPort}`, {
      ca: pki.rootPem,
      servername: 'broker.test',
      clientId: 'good-client',
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    await client.publishAsync('t/ok', 'payload-1', { qos: 1 });
    await client.endAsync();
    const o = await only(ep);
    expect(o.engine).toBe(engine);
    expect(o.clientHello?.sni).toBe('broker.test');
    expect(o.handshake).toBe('completed');
    expect(o.negotiated?.version).toBe('TLSv1.3');
    expect(o.wire.serverHello?.version).toBe('TLSv1.3');
    expect(o.mqttConnect).toMatchObject({ clientId: 'good-client', protocolLevel: 4 });
    expect(o.mqttPublishes).toMatchObject([{ topic: 't/ok', payload: 'payload-1' }]);
    expect(o.clientAlert).toBeNull();
    expect(o.closedBy).toBe('client');
  });

  it('records unknown_ca (48) from openssl s_client with a wrong CA, and no SNI without -servername', async (ctx) => {
    if (!hasOpenssl) ctx.skip('openssl is not installed');
    const ep = await start(ctx);
    const run = await sClient(ep.listenPort, ['-CAfile', files.unrelated as string, '-verify_return_error']);
    expect(run.code).not.toBe(0);
    const o = await only(ep);
    expect(o.handshake).toBe('client-alert');
    expect(o.clientAlert).toEqual({ number: 48, name: 'unknown_ca' });
    expect(o.clientHello?.sni).toBeNull();
    expect(o.mqttConnect).toBeNull();
    expect(o.closedBy).toBe('client');
  });

  it('reads the alert off the wire in TLS 1.2 and the served chain in its exact order', async (ctx) => {
    if (!hasOpenssl) ctx.skip('openssl is not installed');
    // Reversed with an extra certificate: leaf, root, intermediate.
    const ep = await start(ctx, { chainPem: pki.leafPem + pki.rootPem + pki.intermediatePem });
    await sClient(ep.listenPort, [
      '-tls1_2',
      '-servername',
      'x.test',
      '-CAfile',
      files.unrelated as string,
      '-verify_return_error',
    ]);
    const o = await only(ep);
    expect(o.clientHello?.sni).toBe('x.test');
    expect(o.clientAlert).toEqual({ number: 48, name: 'unknown_ca' });
    expect(o.wire.serverHello?.version).toBe('TLSv1.2');
    expect(o.wire.servedChain?.map((c) => c.subject.split(', ')[0])).toEqual([
      'CN=broker.test',
      'CN=Lab Root',
      'CN=Lab Intermediate',
    ]);
  });

  it('serves a leaf-only chain as leaf only (no completion), which the client then rejects', async (ctx) => {
    if (!hasOpenssl) ctx.skip('openssl is not installed');
    const ep = await start(ctx, { chainPem: pki.leafPem });
    const run = await sClient(ep.listenPort, [
      '-tls1_2',
      '-CAfile',
      files.root as string,
      '-verify_return_error',
    ]);
    expect(run.stdout).toMatch(/unable to (get local issuer|verify the first)/);
    const o = await only(ep);
    expect(o.wire.servedChain?.map((c) => c.subject.split(', ')[0])).toEqual(['CN=broker.test']);
    expect(o.clientAlert?.number).toBe(48);
  });

  it('records bad_certificate (42) from gnutls-cli with a wrong CA', async (ctx) => {
    if (!hasGnutls) ctx.skip('gnutls-cli is not installed (apt-get install gnutls-bin)');
    const ep = await start(ctx);
    const run = await gnutlsCli(ep.listenPort, [
      '--x509cafile',
      files.unrelated as string,
      '--sni-hostname',
      'broker.test',
    ]);
    expect(run.code).not.toBe(0);
    const o = await only(ep);
    expect(o.clientHello?.sni).toBe('broker.test');
    expect(o.clientAlert).toEqual({ number: 42, name: 'bad_certificate' });
  });

  it('TLS 1.3-only endpoint vs a TLS 1.2-only client: protocol_version from the server', async (ctx) => {
    if (!hasOpenssl) ctx.skip('openssl is not installed');
    const ep = await start(ctx, { minTlsVersion: 'TLSv1.3', maxTlsVersion: 'TLSv1.3' });
    const run = await sClient(ep.listenPort, ['-tls1_2', '-CAfile', files.root as string]);
    expect(run.stdout + run.stderr).toMatch(/protocol version/);
    const o = await only(ep);
    expect(o.clientHello?.offeredVersions).toEqual(['TLSv1.2']);
    expect(o.handshake).toBe('server-error');
    expect(o.serverAlert).toEqual({ number: 70, name: 'protocol_version' });
    expect(o.serverAlertSource).toBe('wire');
  });

  it.for(['TLSv1', 'TLSv1.1'] as const)(
    'serves %s only, lowering the security level and saying so',
    async (version, ctx) => {
      if (!hasOpenssl) ctx.skip('openssl is not installed');
      const ep = await start(ctx, { minTlsVersion: version, maxTlsVersion: version });
      expect(ep.notes?.join(' ')).toMatch(/security level 0/);
      const flag = version === 'TLSv1' ? '-tls1' : '-tls1_1';
      const run = await sClient(ep.listenPort, [
        flag,
        '-cipher',
        'DEFAULT@SECLEVEL=0',
        '-CAfile',
        files.root as string,
      ]);
      expect(run.stdout).toMatch(new RegExp(`Protocol\\s*: ${version.replace('.', '\\.')}\\b`));
      await sClient(ep.listenPort, ['-tls1_2', '-CAfile', files.root as string]);
      await ep.settle(5_000);
      const [old, modern] = ep.observations();
      expect(old?.negotiated?.version).toBe(version);
      expect(old?.wire.serverHello?.version).toBe(version);
      // Below the client's floor the server answers with its own version and the CLIENT refuses it.
      expect(modern?.wire.serverHello?.version).toBe(version);
      expect(modern?.clientAlert).toEqual({ number: 70, name: 'protocol_version' });
    },
  );

  it('restricts TLS ≤ 1.2 to one cipher suite', async (ctx) => {
    if (!hasOpenssl) ctx.skip('openssl is not installed');
    const ep = await start(ctx, { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    const ok = await sClient(ep.listenPort, ['-tls1_2', '-CAfile', files.root as string]);
    expect(ok.stdout).toMatch(/Cipher is ECDHE-ECDSA-AES128-GCM-SHA256/);
    await sClient(ep.listenPort, [
      '-tls1_2',
      '-cipher',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      '-CAfile',
      files.root as string,
    ]);
    await ep.settle(5_000);
    const [good, refused] = ep.observations();
    expect(good?.negotiated?.cipher).toBe('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
    expect(refused?.handshake).toBe('server-error');
    expect(refused?.serverAlert).toEqual({ number: 40, name: 'handshake_failure' });
  });

  it('serves the handshake in 512-byte records, visible to the client', async (ctx) => {
    if (!hasOpenssl) ctx.skip('openssl is not installed');
    const ep = await start(ctx, { handshakeFragment: 512 });
    // Padding makes the chain larger than one 512-byte record.
    const relay = await recordCountingRelay(ep.listenPort);
    try {
      const run = await sClient(relay.port, [
        '-tls1_2',
        '-CAfile',
        files.root as string,
        '-verify_return_error',
      ]);
      expect(run.stdout).toMatch(/Verify return code: 0/);
    } finally {
      await relay.close();
    }
    expect(relay.seen.serverMaxRecordLength).toBeLessThanOrEqual(512);
    const o = await only(ep);
    expect(o.handshake).toBe('completed');
    expect(o.wire.certificateRecords).toBeGreaterThan(1);
  });

  it('records a fragmented twin: without fragmentation the certificate fits one record', async (ctx) => {
    if (!hasOpenssl) ctx.skip('openssl is not installed');
    const ep = await start(ctx);
    await sClient(ep.listenPort, ['-tls1_2', '-CAfile', files.root as string]);
    const o = await only(ep);
    expect(o.wire.certificateRecords).toBe(1);
    expect(o.wire.fromServer.maxRecordLength).toBeGreaterThan(512);
  });

  describe("mbedTLS 2.28 (the modems' stack) against fragmented handshake records", () => {
    async function mbedtls(port: number) {
      const result = await mbedtlsEngine.handshake({
        address: '127.0.0.1',
        port,
        anchorsPem: pki.rootPem,
        verify: true,
        sni: 'broker.test',
        checkName: 'broker.test',
        nameRules: 'stack',
        versions: { min: 'TLSv1.2', max: 'TLSv1.2' },
        cipherSuites: null,
        deviceTime: null,
        ignoreValidity: false,
        ignoreChainAboveLeaf: false,
        ignoreSignatureProfile: false,
        timeoutMs: 10_000,
      });
      if (result.ok) result.stream.destroy();
      return result;
    }

    // leaf + intermediate + root: a Certificate message of about 1.4 kB, so 512 and 1024 both cut it.
    it.for([
      [512, false],
      [1024, false],
      [4096, true],
      [null, true],
    ] as const)('fragment %s: handshake ok=%s', async ([fragment, expectOk], ctx) => {
      const available = await mbedtlsEngine.available();
      if (!available.ok) ctx.skip(available.reason);
      const chainPem = fullChain() + pki.rootPem;
      const ep = await start(ctx, fragment ? { chainPem, handshakeFragment: fragment } : { chainPem });
      const result = await mbedtls(ep.listenPort);
      expect(result.ok).toBe(expectOk);
      if (!result.ok) expect(result.reason).toMatch(/-0x7080/);
      const o = await only(ep);
      // The twin: the same chain in one record completes, so the record size is the reason.
      if (expectOk) expect(o.wire.certificateRecords).toBe(1);
      else {
        expect(o.wire.certificateRecords).toBeGreaterThan(1);
        expect(o.wire.fromServer.maxRecordLength).toBeLessThanOrEqual(fragment ?? 0);
      }
    });
  });

  describe('mutual TLS', () => {
    const mtls = () => ({ clientAuth: { caPem: pki.clientCaPem, required: true } });

    it('records the client certificate a good client presented', async (ctx) => {
      const ep = await start(ctx, mtls());
      const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${ep.listenPort}`, {
        ca: pki.rootPem,
        cert: pki.clientCertPem,
        key: pki.clientKeyPem,
        servername: 'broker.test',
        clientId: 'mtls-client',
        reconnectPeriod: 0,
        connectTimeout: 5_000,
      });
      await client.endAsync();
      const o = await only(ep);
      expect(o.handshake).toBe('completed');
      expect(o.clientCertificate?.subject).toMatch(/CN=modem-client-001/);
      expect(o.mqttConnect?.clientId).toBe('mtls-client');
    });

    it('TLS 1.2: the wire shows the CertificateRequest and the client chain', async (ctx) => {
      if (!hasOpenssl) ctx.skip('openssl is not installed');
      const ep = await start(ctx, mtls());
      await sClient(ep.listenPort, [
        '-tls1_2',
        '-CAfile',
        files.root as string,
        '-cert',
        files.client as string,
        '-key',
        files.clientKey as string,
      ]);
      const o = await only(ep);
      expect(o.wire.certificateRequested).toBe(true);
      expect(o.wire.clientChain?.[0]?.subject).toMatch(/CN=modem-client-001/);
      expect(o.handshake).toBe('completed');
    });

    it('a client without a certificate is refused with an alert', async (ctx) => {
      if (!hasOpenssl) ctx.skip('openssl is not installed');
      const ep = await start(ctx, mtls());
      await sClient(ep.listenPort, ['-tls1_2', '-CAfile', files.root as string]);
      const o = await only(ep);
      expect(o.clientCertificate).toBeNull();
      expect(o.handshake).toBe('server-error');
      expect(o.serverAlert?.number).toBe(40); // TLS 1.2: handshake_failure
    });

    it('a client certificate from an unknown CA is refused (unknown_ca where the engine sends one)', async (ctx) => {
      if (!hasOpenssl) ctx.skip('openssl is not installed');
      const ep = await start(ctx, mtls());
      await sClient(ep.listenPort, [
        '-tls1_2',
        '-CAfile',
        files.root as string,
        '-cert',
        files.stranger as string,
        '-key',
        files.strangerKey as string,
      ]);
      const o = await only(ep);
      expect(o.wire.clientChain?.[0]?.subject).toMatch(/CN=stranger-client/);
      expect(o.mqttConnect).toBeNull();
      if (engine === 'aedes') {
        // Node as an mTLS server sends no alert (node-ecosystem.md §2.3): the refusal is a close.
        expect(o.serverAlert).toBeNull();
        expect(o.serverClosedReason).toMatch(/client certificate refused/);
        expect(o.clientCertificate?.verified).toBe(false);
      } else {
        expect(o.serverAlert).toEqual({ number: 48, name: 'unknown_ca' });
        expect(o.handshake).toBe('server-error');
      }
    });
  });

  describe('SNI routing (AWS IoT style)', () => {
    const routing = () => ({
      sniRouting: {
        hostname: 'broker.test',
        defaultChainPem: pki.defaultLeafPem,
        defaultKeyPem: pki.defaultKeyPem,
      },
    });
    const connect = (port: number, servername: string | undefined) =>
      new Promise<string>((resolve) => {
        const client = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
          ca: pki.rootPem,
          servername,
          rejectUnauthorized: false, // the wrong-SNI client gets the default cert; routing is the point
          clientId: 'routed',
          reconnectPeriod: 0,
          connectTimeout: 5_000,
        });
        client.once('connect', () => {
          resolve('connack');
          client.end();
        });
        client.once('close', () => resolve('closed'));
        client.once('error', () => resolve('error'));
      });

    it('right SNI: the configured chain and a CONNACK', async (ctx) => {
      const ep = await start(ctx, routing());
      expect(await connect(ep.listenPort, 'broker.test')).toBe('connack');
      const o = await only(ep);
      expect(o.servername).toBe('broker.test');
      expect(o.serverClosedReason).toBeNull();
    });

    it('wrong SNI: handshake completes with the default chain, closed on CONNECT', async (ctx) => {
      const ep = await start(ctx, routing());
      expect(await connect(ep.listenPort, 'wrong.test')).toBe('closed');
      const o = await only(ep);
      expect(o.handshake).toBe('completed');
      expect(o.clientHello?.sni).toBe('wrong.test');
      expect(o.mqttConnect?.clientId).toBe('routed');
      expect(o.serverClosedReason).toMatch(/SNI wrong.test is not broker.test/);
      expect(o.closedBy).toBe('server');
    });

    it('absent SNI: closed on CONNECT too', async (ctx) => {
      const ep = await start(ctx, routing());
      // An IP literal as host and no servername: Node sends no SNI.
      expect(await connect(ep.listenPort, undefined)).toBe('closed');
      const o = await only(ep);
      expect(o.clientHello?.sni).toBeNull();
      expect(o.serverClosedReason).toMatch(/no SNI/);
    });
  });
});

describe('Node tls client (no alert on rejection)', () => {
  it('is recorded as a close without alert on the aedes endpoint', async () => {
    const ep = await startEndpoint('aedes', { chainPem: fullChain(), keyPem: pki.leafKeyPem });
    try {
      await new Promise<void>((resolve) => {
        const s = tls.connect({
          host: '127.0.0.1',
          port: ep.listenPort,
          ca: pki.unrelatedRootPem,
          servername: 'x.test',
        });
        s.on('error', () => resolve());
        s.on('secureConnect', () => resolve());
      });
      await ep.settle(5_000);
      const o = ep.observations()[0];
      expect(o?.handshake).toBe('closed-without-alert');
      expect(o?.clientAlert).toBeNull();
    } finally {
      await ep.stop();
    }
  });
});
