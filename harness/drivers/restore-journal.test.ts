import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PERSONALITIES } from '../virtual-modem/personality.ts';
import { quectelRig } from '../virtual-modem/quectel/rig.ts';
import { replayPending } from './journal-replay.ts';
import { JournalError, RestoreJournal, readJournal } from './restore-journal.ts';
import { RestoreStack } from './restore-stack.ts';

const HEADER = { device: 'tcp://127.0.0.1:1', family: 'quectel', imei: '866123456789012', run: null };
const dir = () => mkdtempSync(join(tmpdir(), 'trustlab-journal-'));

describe('restore journal', () => {
  it('is on disk before the change and marks it restored after the undo; closed once the stack is empty', async () => {
    const file = join(dir(), 'j.jsonl');
    const journal = RestoreJournal.start([file], HEADER);
    const stack = new RestoreStack(journal);
    const order: string[] = [];
    stack.push('sni back to 0', async () => void order.push('undo sni'), {
      commands: ['AT+QSSLCFG="sni",1,0'],
    });
    // Written before push returns: the caller makes the change only afterwards.
    expect(readJournal(file)?.pending.map((p) => p.label)).toEqual(['sni back to 0']);
    stack.push('not replayable', async () => void order.push('undo note'));
    expect(readJournal(file)?.pending).toHaveLength(1);
    expect(await stack.unwind()).toEqual([]);
    expect(order).toEqual(['undo note', 'undo sni']);
    expect(readJournal(file)).toMatchObject({ pending: [], open: true });
    journal.close();
    expect(readJournal(file)).toMatchObject({ pending: [], open: false, header: HEADER });
  });

  it('keeps a change whose undo failed pending, and the journal open, for trustlab restore', async () => {
    const file = join(dir(), 'j.jsonl');
    const journal = RestoreJournal.start([file], HEADER);
    const stack = new RestoreStack(journal);
    stack.push('cacert back', () => Promise.reject(new Error('+CME ERROR: 3')), {
      commands: ['AT+QSSLCFG="cacert",1,""'],
    });
    expect(await stack.unwind()).toEqual(['cacert back: +CME ERROR: 3']);
    // Closing a journal with a change still pending only lets go of it: it stays open.
    journal.close();
    expect(readJournal(file)).toMatchObject({ open: true, pending: [{ label: 'cacert back' }] });
  });

  it('ignores a last line cut short by a kill, and says so', () => {
    const file = join(dir(), 'j.jsonl');
    const journal = RestoreJournal.start([file], HEADER);
    journal.change('sni back to 0', { commands: ['AT+QSSLCFG="sni",1,0'] });
    journal.release();
    appendFileSync(file, '{"t":"change","id":2,"label":"seclev');
    expect(readJournal(file)).toMatchObject({ tornTail: true, open: true, pending: [{ id: 1 }] });
  });

  it('names the line of a malformed journal instead of replaying a guess', () => {
    const file = join(dir(), 'j.jsonl');
    writeFileSync(file, `${JSON.stringify({ t: 'open', at: 'x', ...HEADER })}\nnot json\n`);
    expect(() => readJournal(file)).toThrow(JournalError);
    expect(() => readJournal(file)).toThrow(/line 2 is not JSON/);
    writeFileSync(file, `${JSON.stringify({ t: 'open', at: 'x', ...HEADER })}\n{"t":"change","id":1}\n`);
    expect(() => readJournal(file)).toThrow(/line 2 is not a journal entry/);
    writeFileSync(file, '{"t":"change","id":1,"label":"x","undo":{"commands":[]}}\n');
    expect(() => readJournal(file)).toThrow(/no header line/);
    expect(readJournal(join(dir(), 'absent.jsonl'))).toBeNull();
  });

  it('writes every line to each copy', () => {
    const [a, b] = [join(dir(), 'lab.jsonl'), join(dir(), 'run', 'j.jsonl')];
    const journal = RestoreJournal.start([a, b], HEADER);
    journal.change('x', {
      clock: { original: new Date(0).toISOString(), takenAt: new Date(0).toISOString() },
    });
    journal.close();
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
  });
});

describe('replaying a journal', () => {
  let close = () => {};
  afterEach(() => close());

  it('puts back newest first, goes on past a failure, and tolerates best-effort undos', async () => {
    const rig = quectelRig(PERSONALITIES.strict);
    close = rig.close;
    await rig.at.commandOk('AT+QSSLCFG="sni",1,1');
    const report = await replayPending(
      rig.at,
      [
        { id: 1, label: 'sni back to 0', undo: { commands: ['AT+QSSLCFG="sni",1,0'] } },
        { id: 2, label: 'bogus', undo: { commands: ['AT+QSSLCFG="nosuchkey",1,0'] } },
        {
          id: 3,
          label: 'delete file',
          undo: { commands: ['AT+QFDEL="UFS:trustlab_gone.pem"'], bestEffort: true },
        },
      ],
      2_000,
    );
    expect(report.restoredIds).toEqual([3, 1]);
    expect(report.failed).toEqual([expect.stringMatching(/^bogus: AT\+QSSLCFG="nosuchkey",1,0 → /)]);
    const sni = await rig.at.commandOk('AT+QSSLCFG="sni",1');
    expect(sni.lines).toEqual(['+QSSLCFG: "sni",1,0']);
  });

  it('sets the clock to the original advanced by the time that passed', async () => {
    const rig = quectelRig(PERSONALITIES.strict);
    close = rig.close;
    const original = new Date(Date.UTC(2024, 0, 1, 12, 0, 0));
    const takenAt = new Date(Date.now() - 60_000);
    await replayPending(
      rig.at,
      [
        {
          id: 1,
          label: 'clock',
          undo: { clock: { original: original.toISOString(), takenAt: takenAt.toISOString() } },
        },
      ],
      2_000,
    );
    const r = await rig.at.commandOk('AT+CCLK?');
    expect(r.lines[0]).toMatch(/^\+CCLK: "24\/01\/01,12:01:0[0-2]\+00"$/);
  });
});
