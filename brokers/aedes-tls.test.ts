import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHierarchy } from '../certs/factory.ts';
import type { Hierarchy } from '../certs/spec.ts';
import { toolAvailable } from '../harness/tools/find-tool.ts';
import { startAedesTlsEndpoint } from './aedes-tls.ts';
import type { EndpointHandle } from './endpoint.ts';

const hasOpenssl = await toolAvailable('openssl');

let h: Hierarchy;
let endpoint: EndpointHandle;

beforeAll(async () => {
  h = await buildHierarchy({
    name: 'broker-test',
    keyType: 'p256',
    dialledHost: 'broker.test',
    anchor: 'unrelated-root',
  });
  endpoint = await startAedesTlsEndpoint({ chainPem: h.servedChainPem, keyPem: h.serverKeyPem });
});

afterAll(async () => {
  await endpoint.stop();
});

const last = () => endpoint.observations().at(-1);

describe('aedes over TLS endpoint', () => {
  it('listens on loopback', () => {
    expect(endpoint.listenHost).toBe('127.0.0.1');
  });

  it('records a good client: SNI, completed handshake, CONNECT and PUBLISH', async () => {
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${endpoint.listenPort}`, {
      ca: h.issuingRootPem,
      servername: 'broker.test',
      clientId: 'good-client',
      reconnectPeriod: 0,
    });
    await client.publishAsync('t/ok', 'payload-1', { qos: 1 });
    await client.endAsync();
    await endpoint.settle(2000);
    const o = last();
    expect(o?.clientHello?.sni).toBe('broker.test');
    expect(o?.handshake).toBe('completed');
    expect(o?.servername).toBe('broker.test');
    expect(o?.mqttConnect).toMatchObject({ clientId: 'good-client', protocolLevel: 4 });
    expect(o?.mqttPublishes).toMatchObject([{ topic: 't/ok', payload: 'payload-1' }]);
    expect(o?.closedAt).not.toBeNull();
  });

  it('records a Node client rejecting the chain as a close without alert and no MQTT', async () => {
    await new Promise<void>((resolve) => {
      const s = tls.connect({
        host: '127.0.0.1',
        port: endpoint.listenPort,
        ca: h.anchorsPem,
        servername: 'x.test',
      });
      s.on('error', () => resolve());
      s.on('secureConnect', () => resolve());
    });
    await endpoint.settle(2000);
    const o = last();
    expect(o?.clientHello?.sni).toBe('x.test');
    expect(o?.handshake).toBe('closed-without-alert');
    expect(o?.clientAlert).toBeNull();
    expect(o?.mqttConnect).toBeNull();
  });

  it('records the unknown_ca alert that openssl s_client sends for a wrong CA', async (ctx) => {
    if (!hasOpenssl) ctx.skip('openssl is not installed (CI installs it: apt-get install openssl)');
    const dir = mkdtempSync(join(tmpdir(), 'trustlab-broker-'));
    writeFileSync(join(dir, 'wrong.pem'), h.anchorsPem);
    await new Promise<void>((resolve) => {
      const p = spawn(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${endpoint.listenPort}`,
          '-CAfile',
          join(dir, 'wrong.pem'),
          '-verify_return_error',
        ],
        { stdio: ['pipe', 'ignore', 'ignore'] },
      );
      p.stdin.end('Q\n');
      p.on('exit', () => resolve());
    });
    await endpoint.settle(2000);
    const o = last();
    expect(o?.handshake).toBe('client-alert');
    expect(o?.clientAlert).toEqual({ number: 48, name: 'unknown_ca' });
    expect(o?.clientHello?.sni).toBeNull();
    expect(o?.closedBy).toBe('client');
  });
});

describe('a second door onto the same aedes endpoint', () => {
  it('serves the same chain and broker, observed apart from the main port, and closes with the endpoint', async () => {
    const own = await startAedesTlsEndpoint({ chainPem: h.servedChainPem, keyPem: h.serverKeyPem });
    const door = await own.listenAgain();
    expect(door.listenPort).not.toBe(own.listenPort);
    const connect = (port: number, clientId: string) =>
      mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
        ca: h.issuingRootPem,
        servername: 'broker.test',
        clientId,
        reconnectPeriod: 0,
      });
    // A subscriber on the main port sees a publish made through the door: one broker behind both.
    const main = await connect(own.listenPort, 'on-main');
    const got = new Promise<string>((resolve) => main.on('message', (_t, p) => resolve(p.toString())));
    await main.subscribeAsync('t/door', { qos: 1 });
    const side = await connect(door.listenPort, 'on-door');
    await side.publishAsync('t/door', 'through the door', { qos: 1 });
    expect(await got).toBe('through the door');
    await side.endAsync();
    await main.endAsync();
    await Promise.all([own.settle(2000), door.settle(2000)]);
    expect(own.observations().map((o) => o.mqttConnect?.clientId)).toEqual(['on-main']);
    expect(door.observations().map((o) => o.mqttConnect?.clientId)).toEqual(['on-door']);
    expect(door.observations()[0]?.mqttPublishes).toMatchObject([
      { topic: 't/door', payload: 'through the door' },
    ]);
    // The served chain is the endpoint's: the same leaf on both ports.
    const leafOn = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect(
          { host: '127.0.0.1', port, servername: 'broker.test', rejectUnauthorized: false },
          () => {
            resolve(s.getPeerCertificate().fingerprint256);
            s.destroy();
          },
        );
        s.on('error', reject);
      });
    expect(await leafOn(door.listenPort)).toBe(await leafOn(own.listenPort));
    await own.stop();
    await expect(connect(door.listenPort, 'after-stop')).rejects.toThrow(/ECONNREFUSED/);
  });
});
