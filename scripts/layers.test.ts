import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const SOURCES = '{app,contracts,certs,brokers,harness,suites,reports}/**/*.ts';

const cruise = (cwd: string) =>
  promisify(execFile)(process.execPath, [CRUISE, SOURCES, '--config', CONFIG], { cwd }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
  );

describe('layers: an import only goes down (app → suites → harness | reports → brokers → certs → contracts)', () => {
  it('the project has no import that runs back up a layer', async () => {
    const { code, out } = await cruise(ROOT);
    expect(out).toContain('no dependency violations found');
    expect(code).toBe(0);
  }, 60_000);

  it('a deliberately broken tree fails, naming the rule each back-up import breaks', async () => {
    const tree = mkdtempSync(join(tmpdir(), 'trustlab-layers-'));
    const file = (path: string, text: string) => {
      mkdirSync(join(tree, path, '..'), { recursive: true });
      writeFileSync(join(tree, path), text);
    };
    file('suites/plan.ts', 'export const plan = 1;\n');
    file('harness/device.ts', "import { plan } from '../suites/plan.ts';\nexport const d = plan;\n");
    file('reports/record.ts', "import { d } from '../harness/device.ts';\nexport const r = d;\n");
    file('harness/device.test.ts', "import { plan } from '../suites/plan.ts';\nexport const t = plan;\n");
    copyFileSync(join(ROOT, 'tsconfig.json'), join(tree, 'tsconfig.json'));
    const { code, out } = await cruise(tree);
    expect(code).not.toBe(0);
    expect(out).toMatch(/harness-imports-only-down: harness\/device\.ts → suites\/plan\.ts/);
    expect(out).toMatch(/reports-imports-only-down: reports\/record\.ts → harness\/device\.ts/);
    // Tests may cross layers: they check how the layers fit.
    expect(out).not.toContain('harness/device.test.ts');
  }, 60_000);
});
