import { describe, expect, it } from 'vitest';
import { createMemoryPair } from '../transport/memory-pair.ts';
import { AtEngine, responsePrefixOf } from './engine.ts';
import { AtLinkError, AtTimeoutError, AtUnexpectedUrcError } from './errors.ts';
import { Transcript } from './transcript.ts';

/** A reply that opens a data phase: the prompt, then exactly `size` raw bytes, then the answer. */
interface DataReply {
  readonly prompt: string;
  readonly size: number;
  readonly answer: (data: string) => string;
}

/** A scripted device: for each command line it receives, writes the scripted reply. */
function scripted(replies: Record<string, string | DataReply>) {
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
  return { at: new AtEngine(host, { transcript, defaultTimeoutMs: 200 }), device, transcript };
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
    await at.commandOk('AT+QMTOPEN=1,"h",1');
    await new Promise((r) => setTimeout(r, 20));
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
});
