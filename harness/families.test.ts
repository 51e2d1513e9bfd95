import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FAMILY, FAMILY_NAMES, familyNamed, UnknownFamilyError } from './families.ts';
import { openDevice } from './runner/device.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The folders that belong to one family: a driver folder with family.ts, a dialect folder with dialect.ts. */
function familyFolders(): string[] {
  const within = (dir: string, marker: string) =>
    readdirSync(join(ROOT, dir), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(ROOT, dir, d.name, marker)))
      .map((d) => `${dir}/${d.name}/`);
  return [...within('harness/drivers', 'family.ts'), ...within('harness/virtual-modem', 'dialect.ts')];
}

/** Source files a family's name must not appear in: not a family folder, the registry, a test or documentation. */
function sharedSources(): string[] {
  const folders = familyFolders();
  return execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.mjs', '*.js'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter((f) => f && existsSync(join(ROOT, f)))
    .filter((f) => !/\.test\.ts$/.test(f) && f !== 'harness/families.ts')
    .filter((f) => !folders.some((dir) => f.startsWith(dir)));
}

describe('the family registry', () => {
  it('every family has a driver folder and a dialect folder of its own', () => {
    const folders = familyFolders();
    expect(folders.filter((f) => f.startsWith('harness/drivers/')).length).toBe(FAMILY_NAMES.length);
    expect(folders.filter((f) => f.startsWith('harness/virtual-modem/')).length).toBe(FAMILY_NAMES.length);
    for (const name of FAMILY_NAMES) expect(familyNamed(name).virtual.family).toBe(name);
  });

  it('no shared file names a family or reaches into a family folder: everything family-specific is a lookup', () => {
    const folders = familyFolders();
    const offences: string[] = [];
    for (const file of sharedSources()) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const name of FAMILY_NAMES) {
        if (text.includes(`'${name}'`) || text.includes(`"${name}"`))
          offences.push(`${file} names '${name}'`);
      }
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        const target = join(file, '..', m[1] as string).replaceAll('\\', '/');
        if (folders.some((dir) => `${target}`.startsWith(dir))) offences.push(`${file} imports ${m[1]}`);
      }
    }
    expect(offences).toEqual([]);
  });

  it('an unknown or misspelled family is an error listing the known ones, never another dialect', async () => {
    expect(() => familyNamed('quectell')).toThrow(UnknownFamilyError);
    expect(() => familyNamed('quectell')).toThrow(
      `unknown modem family "quectell" (known: ${FAMILY_NAMES.join(', ')})`,
    );
    await expect(openDevice({ driver: 'nrf9160' })).rejects.toThrow(
      /unknown modem family "nrf9160" \(known: /,
    );
    expect(FAMILY_NAMES).toContain(DEFAULT_FAMILY);
  });
});
