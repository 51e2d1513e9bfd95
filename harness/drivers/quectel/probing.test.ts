import { describe, expect, it } from 'vitest';
import { AtEngine } from '../../at/engine.ts';
import { Transcript } from '../../at/transcript.ts';
import { createMemoryPair } from '../../transport/memory-pair.ts';
import { parseAtArgs } from '../../virtual-modem/at-args.ts';
import type { MqttCaseInput } from '../driver.ts';
import { listedKeys } from '../test-answers.ts';
import { DEFAULT_INTENT } from '../tls-intent.ts';
import { choosePublishForm } from './capabilities.ts';
import { qfuplChecksum } from './checksum.ts';
import { QuectelDriver } from './driver.ts';
import { QUECTEL_TIMEOUTS } from './timeouts.ts';

/**
 * A module of another dialect than the virtual EC200U, scripted from the EC200x/EC800x note: its
 * test answer spells "secllevel", it has no ignorecertitem, and it publishes only with inline
 * AT+QMTPUB. Nothing in the driver may assume EC200U behaviour for it.
 */
function otherDialect(options: { qsslcfgTest?: boolean } = {}) {
  const [host, io] = createMemoryPair();
  const ssl: Record<string, string> = {
    sslversion: '4',
    ciphersuite: '0XFFFF',
    cacert: '',
    clientcert: '',
    clientkey: '',
    secllevel: '0',
    ignorelocaltime: '1',
    negotiatetime: '300',
    sni: '0',
    closetimemode: '0',
    ignoremulticertchainverify: '0',
    ignoreinvalidcertsign: '0',
    session_cache: '0',
  };
  const mqtt: Record<string, string> = { ssl: '0,0', version: '4' };
  const files = new Map<string, Buffer>();
  const sent: string[] = [];
  let upload: { name: string; size: number; got: Buffer[] } | null = null;
  const w = (s: string) => io.write(s);
  const ok = (lines: string[] = []) => w(`${lines.map((l) => `\r\n${l}\r\n`).join('')}\r\nOK\r\n`);
  let line = '';
  io.on('data', (chunk: Buffer) => {
    let data = chunk;
    if (upload) {
      upload.got.push(data);
      const all = Buffer.concat(upload.got);
      if (all.length < upload.size) return;
      files.set(upload.name, all);
      upload = null;
      return ok([`+QFUPL: ${all.length},${qfuplChecksum(all)}`]);
    }
    for (const c of data.toString('latin1')) {
      if (c !== '\r') {
        line += c;
        continue;
      }
      const cmd = line;
      line = '';
      sent.push(cmd);
      const m = /^AT(\+[A-Z]+)(=\?|\?|=(.*))?$/.exec(cmd);
      const args = parseAtArgs(m?.[3] ?? '').values;
      if (cmd === 'AT' || cmd === 'AT+CGSN') ok(cmd === 'AT' ? [] : ['860000000000001']);
      else if (cmd === 'ATI') ok(['Quectel', 'EC800N', 'Revision: EC800NCNLAR01A01M16']);
      else if (cmd === 'AT+QSSLCFG=?' && options.qsslcfgTest !== false)
        ok(Object.keys(ssl).map((k) => `+QSSLCFG: "${k}",(0-5),<v>`));
      else if (cmd === 'AT+QMTCFG=?')
        ok(['+QMTCFG: "version",(0-5),(3,4)', '+QMTCFG: "ssl",(0-5),(0,1),(0-5)']);
      else if (cmd === 'AT+QMTPUB=?') ok(['+QMTPUB: (0-5),<msgid>,(0-2),(0,1),"topic","msg"']);
      else if (m?.[2] === '=?') w('\r\nERROR\r\n');
      else if (m?.[1] === '+QSSLCFG' && args.length === 2) {
        const [k = '', ctx] = args;
        if (!Object.hasOwn(ssl, k)) w('\r\nERROR\r\n');
        else
          ok([
            `+QSSLCFG: "${k}",${ctx},${/^(cacert|clientcert|clientkey)$/.test(k) ? `"${ssl[k]}"` : ssl[k]}`,
          ]);
      } else if (m?.[1] === '+QSSLCFG' && args.length === 3) {
        const [k = '', , v = ''] = args;
        if (!Object.hasOwn(ssl, k)) w('\r\nERROR\r\n');
        else {
          ssl[k] = v;
          ok();
        }
      } else if (m?.[1] === '+QMTCFG') {
        const [k = '', idx, ...rest] = args;
        if (rest.length === 0) ok([`+QMTCFG: "${k}",${idx},${mqtt[k]}`]);
        else {
          mqtt[k] = rest.join(',');
          ok();
        }
      } else if (cmd.startsWith('AT+QFLST')) ok([...files].map(([n, b]) => `+QFLST: "UFS:${n}",${b.length}`));
      else if (m?.[1] === '+QFUPL') {
        upload = { name: (args[0] ?? '').replace('UFS:', ''), size: Number(args[1]), got: [] };
        w('\r\nCONNECT\r\n');
      } else if (m?.[1] === '+QFDEL') {
        files.delete((args[0] ?? '').replace('UFS:', ''));
        ok();
      } else if (m?.[1] === '+QMTOPEN') {
        ok();
        w(`\r\n+QMTOPEN: ${args[0]},0\r\n`);
      } else if (m?.[1] === '+QMTCONN') {
        ok();
        w(`\r\n+QMTCONN: ${args[0]},0,0\r\n`);
      } else if (m?.[1] === '+QMTPUB' && args.length === 6) {
        ok();
        w(`\r\n+QMTPUB: ${args[0]},${args[1]},0\r\n`);
      } else if (m?.[1] === '+QMTDISC') {
        ok();
        w(`\r\n+QMTDISC: ${args[0]},0\r\n`);
      } else w('\r\nERROR\r\n');
    }
    data = Buffer.alloc(0);
  });
  const driver = new QuectelDriver(new AtEngine(host, { transcript: new Transcript() }), undefined, {
    ...QUECTEL_TIMEOUTS,
    mqttOpen: 500,
    mqttPacket: 500,
    mqttClose: 500,
  });
  return { driver, sent, ssl, mqtt, files };
}

const input: MqttCaseInput = {
  caseId: 'x',
  anchorsPem: '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n',
  host: '127.0.0.1',
  port: 8883,
  intent: { ...DEFAULT_INTENT, version: 'TLSv1.2', deviceClock: 'ignore' },
  clientId: 'c',
  topic: 't',
  payload: 'hello',
};

describe('Quectel driver on a module it learns by probing', () => {
  it('publishes inline with AT+QMTPUB because that is what the module lists', async () => {
    const { driver, sent, ssl, mqtt, files } = otherDialect();
    const id = await driver.identify();
    expect(id.model).toBe('EC800N');
    const out = await driver.runMqttCase(input);
    expect(out.error).toBeNull();
    expect(out.codes.map((c) => c.raw)).toEqual([
      '+QMTOPEN: 1,0',
      '+QMTCONN: 1,0,0',
      '+QMTPUB: 1,1,0',
      '+QMTDISC: 1,0',
    ]);
    expect(sent).toContain('AT+QMTPUB=1,1,1,0,"t","hello"');
    expect(sent.some((c) => c.startsWith('AT+QMTPUBEX=1'))).toBe(false);
    // "secllevel" was the key this module answers; it was set for the case and put back.
    expect(sent).toContain('AT+QSSLCFG="secllevel",1,1');
    expect(out.settingsReadBack['QSSLCFG secllevel']).toBe('+QSSLCFG: "secllevel",1,1');
    expect(ssl).toMatchObject({ secllevel: '0', sni: '0', sslversion: '4', cacert: '' });
    expect(mqtt.ssl).toBe('0,0');
    expect(files.size).toBe(0);
    // Keys it does not list are never written.
    expect(sent.some((c) => c.includes('"ignorecertitem",1,'))).toBe(false);
  });

  it('refuses a vendor key the module does not have instead of running without it', async () => {
    const { driver, sent } = otherDialect();
    const out = await driver.runMqttCase({
      ...input,
      intent: { ...input.intent, vendor: { 'quectel.ignorecertitem': '0' } },
    });
    expect(out.error).toMatch(/not expressible on quectel: no quectel.ignorecertitem switch/);
    expect(out.healthy).toBe(true);
    expect(sent.some((c) => c.startsWith('AT+QMTOPEN'))).toBe(false);
  });

  it('falls back to the documented key list when the module refuses AT+QSSLCFG=?', async () => {
    const { driver, sent } = otherDialect({ qsslcfgTest: false });
    const out = await driver.runMqttCase(input);
    expect(out.error).toBeNull();
    expect(out.reached.publishAcked).toBe(true);
    expect(sent).toContain('AT+QSSLCFG="ignorecertitem",1'); // asked, answered ERROR, left alone
  });
});

describe('Quectel driver, mutual TLS on a probed module', () => {
  it('uploads the client certificate and key under owned names, points the context at them, and undoes it all', async () => {
    const { driver, sent, ssl, files } = otherDialect();
    const out = await driver.runMqttCase({
      ...input,
      intent: { ...DEFAULT_INTENT, version: 'TLSv1.2', deviceClock: 'ignore', peerVerification: 'mutual' },
      clientCertificate: { certPem: 'CERT', keyPem: 'KEY' },
    });
    expect(out.error).toBeNull();
    expect(sent).toContain('AT+QSSLCFG="clientcert",1,"UFS:trustlab_client.pem"');
    expect(sent).toContain('AT+QSSLCFG="clientkey",1,"UFS:trustlab_client_key.pem"');
    expect(out.settingsReadBack['QSSLCFG clientkey']).toBe(
      '+QSSLCFG: "clientkey",1,"UFS:trustlab_client_key.pem"',
    );
    expect(ssl).toMatchObject({ clientcert: '', clientkey: '', secllevel: '0' });
    expect(files.size).toBe(0);
  });
});

describe('capability parsing', () => {
  it('reads keys from test answers and picks the publish form from the last parameter', () => {
    expect(listedKeys({ 'AT+QSSLCFG=?': ['+QSSLCFG: "sni",(0-5),(0,1)'] }, 'AT+QSSLCFG=?')).toEqual(['sni']);
    expect(listedKeys({ 'AT+QSSLCFG=?': null }, 'AT+QSSLCFG=?')).toBeNull();
    expect(
      choosePublishForm({ 'AT+QMTPUBEX=?': ['+QMTPUBEX: (0-5),<msgid>,(0-2),(0,1),"topic",(1-4096)'] }),
    ).toEqual({
      command: 'QMTPUBEX',
      mode: 'data',
      basis: 'listed',
    });
    expect(
      choosePublishForm({
        'AT+QMTPUBEX=?': null,
        'AT+QMTPUB=?': ['+QMTPUB: (0-5),<msgid>,(0-2),(0,1),"topic","msg"'],
      }),
    ).toEqual({ command: 'QMTPUB', mode: 'inline', basis: 'listed' });
    expect(choosePublishForm({})).toEqual({ command: 'QMTPUBEX', mode: 'data', basis: 'assumed' });
  });
});
