import { describe, expect, it } from 'vitest';
import { NRF91_SLM_AT } from '../drivers/nrf91-slm/at-dialect.ts';
import { QUECTEL_AT } from '../drivers/quectel/at-dialect.ts';
import { createMemoryPair } from '../transport/memory-pair.ts';
import { AtEngine, dialectOptions, responsePrefixOf } from './engine.ts';
import {
  AtDesyncError,
  AtLinkError,
  AtRestartError,
  AtTimeoutError,
  AtUnexpectedUrcError,
} from './errors.ts';
import { Transcript } from './transcript.ts';

/** A reply that opens a data phase: the prompt, then exactly `size` raw bytes, then the answer. */
interface DataReply {
  readonly prompt: string;
  readonly size: number;
  readonly answer: (data: string) => string;
}

/** Resolves when the engine has taken in a URC matching `pattern` (the event, not a guess at its time). */
function urcSeen(at: AtEngine, pattern: RegExp): Promise<void> {
  return new Promise((resolve) => {
    const off = at.onUrc((line) => {
      if (!pattern.test(line)) return;
      off();
      resolve();
    });
  });
}

/** A scripted device: for each command line it receives, writes the scripted reply. */
function scripted(
  replies: Record<string, string | DataReply>,
  engineOptions: { resyncTimeoutMs?: number } = {},
) {
  const [host, device] = createMemoryPair();
  let line = '';
  let data: { reply: DataReply; got: string } | null = null;
  device.on('data', (chunk: Buffer) => {
    for (const c of chunk.toString('latin1')) {
      if (data) {
        data.got += c;
        if (data.got.length === data.reply.size) {
          device.write(data.reply.answer(data.got));
          data = null;
        }
        continue;
      }
      if (c !== '\r') {
        line += c;
        continue;
      }
      const reply = replies[line];
      line = '';
      if (typeof reply === 'string') device.write(reply);
      else if (reply) {
        device.write(reply.prompt);
        data = { reply, got: '' };
      }
    }
  });
  const transcript = new Transcript();
  return {
    at: new AtEngine(host, {
      transcript,
      defaultTimeoutMs: 200,
      ...dialectOptions(QUECTEL_AT, NRF91_SLM_AT),
      ...engineOptions,
    }),
    device,
    transcript,
  };
}

describe('AtEngine', () => {
  it('drops the echo and returns information lines with the final result', async () => {
    const { at } = scripted({ ATI: 'ATI\r\r\nQuectel\r\nEC200U\r\nRevision: X\r\n\r\nOK\r\n' });
    const r = await at.command('ATI');
    expect(r).toEqual({ command: 'ATI', final: 'OK', ok: true, lines: ['Quectel', 'EC200U', 'Revision: X'] });
  });

  it('reports ERROR and +CME ERROR as not ok, and commandOk rejects them', async () => {
    const { at } = scripted({ 'AT+X': '\r\nERROR\r\n', 'AT+QFDEL="a"': '\r\n+CME ERROR: 405\r\n' });
    expect((await at.command('AT+X')).ok).toBe(false);
    await expect(at.commandOk('AT+QFDEL="a"')).rejects.toThrow('+CME ERROR: 405');
  });

  it('delivers a URC that arrived right after OK to a wait started later', async () => {
    const { at } = scripted({ 'AT+QMTOPEN=1,"h",1': '\r\nOK\r\n\r\n+QMTOPEN: 1,0\r\n' });
    const arrived = urcSeen(at, /^\+QMTOPEN: 1,/);
    await at.commandOk('AT+QMTOPEN=1,"h",1');
    await arrived; // the URC is in before the wait begins
    await expect(at.waitForUrc(/^\+QMTOPEN: 1,/, { timeoutMs: 100 })).resolves.toBe('+QMTOPEN: 1,0');
  });

  it('routes a URC arriving between information lines away from the command', async () => {
    const { at } = scripted({
      'AT+QSSLCFG="sni",1': '\r\n+QSSLCFG: "sni",1,1\r\n\r\n+QMTSTAT: 0,1\r\n\r\nOK\r\n',
    });
    const r = await at.command('AT+QSSLCFG="sni",1');
    expect(r.lines).toEqual(['+QSSLCFG: "sni",1,1']);
    await expect(at.waitForUrc(/^\+QMTSTAT:/, { timeoutMs: 50 })).resolves.toBe('+QMTSTAT: 0,1');
  });

  it('fails a URC wait fast on a URC it was told to fail on', async () => {
    const { at, device } = scripted({});
    const wait = at.waitForUrc(/^\+QMTCONN: 1,/, { timeoutMs: 1000, failOn: /^\+QMTSTAT: 1,/ });
    device.write('\r\n+QMTSTAT: 1,1\r\n');
    await expect(wait).rejects.toBeInstanceOf(AtUnexpectedUrcError);
  });

  it('bounds every wait and carries the last bytes received in the error', async () => {
    const { at, device } = scripted({ 'AT+SLOW': '\r\n+SLOW: partial' });
    const err = await at.command('AT+SLOW', { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtTimeoutError);
    expect((err as AtTimeoutError).lastBytes).toContain('+SLOW: partial');
    device.write('\r\n');
    await expect(at.waitForUrc(/^RDY$/, { timeoutMs: 30 })).rejects.toBeInstanceOf(AtTimeoutError);
  });

  it('writes the payload only after the CONNECT or > prompt', async () => {
    const received: string[] = [];
    const { at } = scripted({
      'AT+QFUPL="f",3,5': {
        prompt: '\r\nCONNECT\r\n',
        size: 3,
        answer: (d) => {
          received.push(d);
          return '\r\n+QFUPL: 3,6162\r\n\r\nOK\r\n';
        },
      },
      'AT+QMTPUBEX=1,1,1,0,"t",2': {
        prompt: '\r\n> ',
        size: 2,
        answer: (d) => {
          received.push(d);
          return '\r\nOK\r\n';
        },
      },
    });
    const up = await at.commandWithData('AT+QFUPL="f",3,5', Buffer.from('abc'), { prompt: 'CONNECT' });
    expect(up.lines).toEqual(['+QFUPL: 3,6162']);
    const pub = await at.commandWithData('AT+QMTPUBEX=1,1,1,0,"t",2', Buffer.from('hi'), { prompt: '>' });
    expect(pub.ok).toBe(true);
    expect(received).toEqual(['abc', 'hi']);
  });

  it('keeps a timestamped transcript of both directions', async () => {
    const { at, transcript } = scripted({ AT: '\r\nOK\r\n' });
    const mark = transcript.mark();
    await at.command('AT');
    const entries = transcript.since(mark);
    expect(entries.map((e) => e.dir)).toEqual(['tx', 'rx']);
    expect(entries[0]?.data).toBe('AT\r');
    expect(entries.every((e) => typeof e.t === 'number' && e.t > 0)).toBe(true);
  });

  it('rejects what is waiting when the link closes', async () => {
    const { at, device } = scripted({});
    const pending = at.command('AT', { timeoutMs: 1000 });
    device.destroy();
    await expect(pending).rejects.toBeInstanceOf(AtLinkError);
  });

  it('derives the response prefix of extended commands', () => {
    expect(responsePrefixOf('AT+QSSLCFG="sni",1')).toBe('+QSSLCFG:');
    expect(responsePrefixOf('AT#XSOCKET=1,1,0')).toBe('#XSOCKET:');
    expect(responsePrefixOf('AT%CMNG=1')).toBe('%CMNG:');
    expect(responsePrefixOf('ATI')).toBeNull();
  });

  it('parses the real BG96 upload shape: CONNECT, then +QFUPL: 1267,f5f among blank lines', async () => {
    const { at } = scripted({
      'AT+QFUPL="rootCA.pem",4,100': {
        prompt: 'AT+QFUPL="rootCA.pem",4,100\r\r\nCONNECT\r\n',
        size: 4,
        answer: () => '\r\n\r\n+QFUPL: 1267,f5f\r\n\r\n\r\nOK\r\n',
      },
    });
    const r = await at.commandWithData('AT+QFUPL="rootCA.pem",4,100', Buffer.from('abcd'), {
      prompt: 'CONNECT',
    });
    expect(r).toMatchObject({ final: 'OK', ok: true, lines: ['+QFUPL: 1267,f5f'] });
  });

  it('routes boot URCs (RDY, APP RDY) away from answers and keeps +CPIN: READY as the answer to AT+CPIN?', async () => {
    // Shape of Azure/embedded-wireless-framework#31: APP RDY arrives inside the AT+CPIN? answer.
    const { at } = scripted({
      AT: '\r\nRDY\r\nAT\r\r\nOK\r\n',
      'AT+CPIN?': '\r\nAPP RDY\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n',
    });
    expect((await at.command('AT')).lines).toEqual([]);
    expect((await at.command('AT+CPIN?')).lines).toEqual(['+CPIN: READY']);
    await expect(at.waitForUrc(/^RDY$/, { timeoutMs: 50 })).resolves.toBe('RDY');
    await expect(at.waitForUrc(/^APP RDY$/, { timeoutMs: 50 })).resolves.toBe('APP RDY');
  });

  it('takes a +QMTOPEN: line before OK of the write form as the URC, but as the answer of the read form', async () => {
    const { at } = scripted({
      'AT+QMTOPEN=0,"h",1': '\r\n+QMTOPEN: 0,5\r\n\r\nOK\r\n',
      'AT+QMTOPEN?': '\r\n+QMTOPEN: 0,"h",1\r\n\r\nOK\r\n',
    });
    expect((await at.command('AT+QMTOPEN=0,"h",1')).lines).toEqual([]);
    expect((await at.command('AT+QMTOPEN?')).lines).toEqual(['+QMTOPEN: 0,"h",1']);
    await expect(at.waitForUrc(/^\+QMTOPEN: 0,-?\d+$/, { timeoutMs: 50 })).resolves.toBe('+QMTOPEN: 0,5');
  });

  it('keeps %CMNG list lines as answers and #XMQTTEVT after OK as a URC', async () => {
    const { at } = scripted({
      'AT%CMNG=1':
        '\r\n%CMNG: 16842753,0,"2C43952EE9E000FF2ACC4E2ED0897C0A72AD5FA72C3D934E81741CBD54F05BD1"\r\n\r\nOK\r\n',
      'AT#XMQTTCON=1,"","","127.0.0.1",8883,700': '\r\nOK\r\n\r\n#XMQTTEVT: 0,0\r\n',
    });
    expect((await at.command('AT%CMNG=1')).lines).toHaveLength(1);
    expect((await at.command('AT#XMQTTCON=1,"","","127.0.0.1",8883,700')).lines).toEqual([]);
    await expect(at.waitForUrc(/^#XMQTTEVT: 0,/, { timeoutMs: 50 })).resolves.toBe('#XMQTTEVT: 0,0');
  });

  it('joins a line and its CR LF split over chunks, one byte at a time', async () => {
    const { at, device } = scripted({});
    const pending = at.command('AT+CGSN');
    for (const c of '\r\n866123456789012\r\n\r\nOK\r\n') device.write(c);
    await expect(pending).resolves.toMatchObject({ ok: true, lines: ['866123456789012'] });
  });

  it('ends a send with SEND OK / SEND FAIL when told those are its final results', async () => {
    const { at } = scripted({
      'AT+QSSLSEND=4,2': { prompt: '\r\n> ', size: 2, answer: () => '\r\nSEND FAIL\r\n' },
    });
    const r = await at.commandWithData('AT+QSSLSEND=4,2', Buffer.from('hi'), {
      prompt: '>',
      extraFinals: { 'SEND OK': true, 'SEND FAIL': false },
    });
    expect(r).toMatchObject({ final: 'SEND FAIL', ok: false });
  });

  it('takes announced raw bytes verbatim, CR LF and "OK" inside them included, even split mid line end', async () => {
    const { at, device } = scripted({});
    const pending = at.command('AT+QSSLRECV=4,1500', { rawDataAfter: /^\+QSSLRECV: (\d+)$/ });
    const data = 'a\r\nOK\r\nz';
    device.write('\r\n+QSSLRECV: 8\r');
    device.write(`\n${data.slice(0, 3)}`);
    device.write(`${data.slice(3)}\r\n\r\nOK\r\n`);
    const r = await pending;
    expect(r.ok).toBe(true);
    expect(r.data?.toString('latin1')).toBe(data);
  });

  it("never takes a late answer as the next command's answer", async () => {
    // The device answers AT+CGSN only when it receives it, so the answer cannot come before the command.
    const { at, device, transcript } = scripted({ 'AT+CGSN': '\r\n866123456789012\r\n\r\nOK\r\n' });
    await expect(at.command('AT+QSSLCFG="sni",1', { timeoutMs: 30 })).rejects.toBeInstanceOf(AtTimeoutError);
    const next = at.command('AT+CGSN', { timeoutMs: 300 });
    // The late answer to the abandoned command arrives after the timeout, before the next command is sent.
    device.write('\r\n+QSSLCFG: "sni",1,0\r\n\r\nERROR\r\n');
    await expect(next).resolves.toMatchObject({ ok: true, lines: ['866123456789012'] });
    const notes = transcript
      .since(0)
      .filter((e) => e.dir === 'note')
      .map((e) => e.data);
    expect(notes.some((n) => n.includes('late answer to abandoned AT+QSSLCFG="sni",1: ERROR'))).toBe(true);
    // AT+CGSN was sent only after the late answer.
    const tx = transcript
      .since(0)
      .filter((e) => e.dir === 'tx')
      .map((e) => e.data);
    expect(tx).toEqual(['AT+QSSLCFG="sni",1\r', 'AT+CGSN\r']);
  });

  it('probes with AT when the abandoned command never answers, then carries on', async () => {
    const { at, transcript } = scripted(
      { AT: '\r\nOK\r\n', 'AT+CGSN': '\r\n866123456789012\r\n\r\nOK\r\n' },
      {
        resyncTimeoutMs: 60,
      },
    );
    await expect(at.command('AT+LOST', { timeoutMs: 30 })).rejects.toBeInstanceOf(AtTimeoutError);
    await expect(at.command('AT+CGSN')).resolves.toMatchObject({ lines: ['866123456789012'] });
    const tx = transcript
      .since(0)
      .filter((e) => e.dir === 'tx')
      .map((e) => e.data);
    expect(tx).toEqual(['AT+LOST\r', 'AT\r', 'AT+CGSN\r']);
  });

  it('fails with AtDesyncError, bounded, when the device answers nothing at all after a timeout', async () => {
    const { at } = scripted({}, { resyncTimeoutMs: 40 });
    await expect(at.command('AT+LOST', { timeoutMs: 30 })).rejects.toBeInstanceOf(AtTimeoutError);
    await expect(at.command('AT')).rejects.toBeInstanceOf(AtDesyncError);
    await expect(at.command('AT')).rejects.toBeInstanceOf(AtDesyncError);
  });

  it('fails a pending URC wait at once when a not-matching URC came before the wait began', async () => {
    const { at, device } = scripted({});
    const arrived = urcSeen(at, /^\+QMTSTAT: 1,/);
    device.write('\r\n+QMTSTAT: 1,1\r\n');
    await arrived;
    await expect(
      at.waitForUrc(/^\+QMTCONN: 1,/, { timeoutMs: 1000, failOn: /^\+QMTSTAT: 1,/ }),
    ).rejects.toBeInstanceOf(AtUnexpectedUrcError);
  });

  it('survives a URC listener that throws', async () => {
    const { at, device } = scripted({ AT: '\r\n+QIURC: "pdpdeact",1\r\n\r\nOK\r\n' });
    at.onUrc(() => {
      throw new Error('listener bug');
    });
    await expect(at.command('AT')).resolves.toMatchObject({ ok: true });
    device.write('\r\nRDY\r\n');
    await expect(at.waitForUrc(/^RDY$/, { timeoutMs: 50 })).resolves.toBe('RDY');
    await expect(at.waitForUrc(/^\+QIURC: "pdpdeact"/, { timeoutMs: 50 })).resolves.toContain('pdpdeact');
  });

  it('takes #XSOCKET: as the answer of AT#XSOCKET=0, and as a URC when no such command is pending', async () => {
    const { at, device } = scripted({
      'AT#XSOCKET=0': '\r\n#XSOCKET: 0,"closed"\r\nOK\r\n',
      'AT#XCONNECT="h",1': '\r\n#XCONNECT: 1\r\nOK\r\n',
    });
    expect((await at.command('AT#XCONNECT="h",1')).lines).toEqual(['#XCONNECT: 1']);
    expect((await at.command('AT#XSOCKET=0')).lines).toEqual(['#XSOCKET: 0,"closed"']);
    device.write('\r\n#XSOCKET: 0,"closed"\r\n');
    await expect(at.waitForUrc(/^#XSOCKET: 0,"closed"/, { timeoutMs: 50 })).resolves.toContain('closed');
  });

  it('treats an information line that looks like an object key as an information line', async () => {
    const { at } = scripted({ 'AT+X': '\r\ntoString\r\n__proto__\r\nOK\r\n' });
    await expect(at.command('AT+X', { extraFinals: { 'SEND OK': true } })).resolves.toMatchObject({
      final: 'OK',
      lines: ['toString', '__proto__'],
    });
  });
});

describe('a restart notice ends what was pending', () => {
  it('a module that answered, then prints RDY, ends the pending command and any other wait at once', async () => {
    const { at } = scripted({ AT: '\r\nOK\r\n', 'AT+QMTCONN=0,"x"': '\r\nRDY\r\n' });
    await at.commandOk('AT');
    const wait = at.waitForUrc(/^\+QMTCONN: 0,/, { timeoutMs: 20_000 });
    const started = Date.now();
    await expect(at.command('AT+QMTCONN=0,"x"', { timeoutMs: 20_000 })).rejects.toBeInstanceOf(
      AtRestartError,
    );
    await expect(wait).rejects.toBeInstanceOf(AtRestartError);
    expect(Date.now() - started).toBeLessThan(10_000);
    // The banner stays for whoever waits for it (the driver's restart handling).
    await expect(at.waitForUrc(/^RDY$/, { timeoutMs: 50 })).resolves.toBe('RDY');
  });

  it('the restart command itself is not ended by the banner it causes', async () => {
    const { at } = scripted({ AT: '\r\nOK\r\n', 'AT+CFUN=1,1': '\r\nRDY\r\nOK\r\n' });
    await at.commandOk('AT');
    await expect(at.command('AT+CFUN=1,1', { restarts: true })).resolves.toMatchObject({ ok: true });
  });

  it('a banner before the module first answered is start-up, not a restart', async () => {
    const { at } = scripted({ AT: '\r\nRDY\r\nAT\r\r\nOK\r\n' });
    await expect(at.command('AT')).resolves.toMatchObject({ ok: true });
  });
});
