import { spawn } from 'node:child_process';

const cache = new Map<string, Promise<boolean>>();

/**
 * Whether an external program runs here (`openssl version`, `gnutls-cli --version`, …). Optional
 * tools are probed, never assumed: a missing one skips its tests with the reason.
 */
export function toolAvailable(
  command: string,
  versionArgs: readonly string[] = ['version'],
): Promise<boolean> {
  const key = `${command} ${versionArgs.join(' ')}`;
  let probe = cache.get(key);
  if (!probe) {
    probe = new Promise<boolean>((resolve) => {
      const child = spawn(command, versionArgs, { stdio: 'ignore' });
      const timer = setTimeout(() => {
        child.kill();
        resolve(false);
      }, 5_000);
      child.on('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code === 0);
      });
    });
    cache.set(key, probe);
  }
  return probe;
}
