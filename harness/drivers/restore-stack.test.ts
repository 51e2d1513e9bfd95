import { describe, expect, it } from 'vitest';
import { RestoreStack, registerForAbort, unwindAllForAbort } from './restore-stack.ts';

describe('RestoreStack', () => {
  it('undoes newest first, runs every step even when one fails, and reports the failures', async () => {
    const stack = new RestoreStack();
    const done: string[] = [];
    stack.push('file', async () => void done.push('file'));
    stack.push('sni', async () => {
      throw new Error('ERROR');
    });
    stack.push('cacert', async () => void done.push('cacert'));
    expect(await stack.unwind()).toEqual(['sni: ERROR']);
    expect(done).toEqual(['cacert', 'file']);
    expect(stack.size).toBe(0);
  });

  it('runs each step once when the case end and an abort unwind at the same time', async () => {
    const stack = new RestoreStack();
    let runs = 0;
    stack.push('slow', async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 20));
    });
    const unregister = registerForAbort(stack);
    await Promise.all([stack.unwind(), unwindAllForAbort(1_000), stack.unwind()]);
    unregister();
    expect(runs).toBe(1);
  });

  it('bounds the abort unwind when a device no longer answers', async () => {
    const stack = new RestoreStack();
    stack.push('hangs', () => new Promise(() => {}));
    const unregister = registerForAbort(stack);
    await expect(unwindAllForAbort(30)).resolves.toEqual(['abort restore did not finish within 30 ms']);
    unregister();
  });
});
