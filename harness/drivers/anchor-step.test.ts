import { describe, expect, it } from 'vitest';
import { AtCommandError, AtTimeoutError } from '../at/errors.ts';
import { anchorStep } from './anchor-step.ts';
import { CaseLog } from './case-log.ts';

describe('anchorStep', () => {
  it("records the device's own error answer as a refusal of the anchor, and passes the error on", async () => {
    const log = new CaseLog();
    await expect(
      anchorStep(log, 'upload', async () => {
        throw new AtCommandError('AT+CCERTDOWN="trustlab_ca.pem",1200', '+CME ERROR: 4');
      }),
    ).rejects.toBeInstanceOf(AtCommandError);
    expect(log.anchorRefused).toMatchObject({
      stage: 'upload',
      command: 'AT+CCERTDOWN="trustlab_ca.pem",1200',
      raw: '+CME ERROR: 4',
    });
    expect(log.codes.map((c) => [c.step, c.raw])).toEqual([['anchor upload refused', '+CME ERROR: 4']]);
    expect(log.outcome('x', true, []).anchorRefused?.raw).toBe('+CME ERROR: 4');
  });

  it('never takes silence, a lost link or a harness error for a refusal', async () => {
    const log = new CaseLog();
    for (const err of [new AtTimeoutError('AT+QSSLCFG', 1000, ''), new Error('read back nothing')]) {
      await expect(
        anchorStep(log, 'bind', async () => {
          throw err;
        }),
      ).rejects.toBe(err);
    }
    expect(log.anchorRefused).toBeNull();
    expect(log.codes).toEqual([]);
    expect(await anchorStep(log, 'bind', async () => 'UFS:trustlab_ca.pem')).toBe('UFS:trustlab_ca.pem');
  });
});
