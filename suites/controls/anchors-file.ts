import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes the files a subprocess client reads, and removes them afterwards. */
export async function withTempFiles<T>(
  files: Record<string, string>,
  use: (paths: Record<string, string>) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'trustlab-control-'));
  try {
    const paths: Record<string, string> = {};
    for (const [name, content] of Object.entries(files)) {
      paths[name] = join(dir, name);
      writeFileSync(paths[name], content);
    }
    return await use(paths);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
