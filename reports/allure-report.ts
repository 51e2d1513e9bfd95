import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONFIG = fileURLToPath(new URL('./allurerc.mjs', import.meta.url));
// The package's exports hide cli.js, so it is found where npm installs it.
const CLI = fileURLToPath(new URL('../node_modules/allure/cli.js', import.meta.url));
const GENERATE_TIMEOUT_MS = 120_000;

/**
 * Allure 3's generated pages load Google Tag Manager (hard-coded `analyticsEnable`); lab reports go
 * to customers and air-gapped benches, so the tag is removed.
 */
export function stripAnalytics(html: string): string {
  return html
    .replace(/<script[^>]*googletagmanager[^>]*>\s*<\/script>/gi, '')
    .replace(/<script>(?:(?!<\/script>)[\s\S])*gtag\((?:(?!<\/script>)[\s\S])*<\/script>/gi, '');
}

function htmlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return htmlFiles(path);
    return name.endsWith('.html') ? [path] : [];
  });
}

/** Runs the Allure 3 CLI (`allure generate`), then strips analytics from the pages. */
export async function generateAllureReport(resultsDir: string, outputDir: string): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`the Allure CLI is not installed (${CLI}); run npm install`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, 'generate', resultsDir, '--config', CONFIG, '--output', outputDir],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ALLURE_NO_ANALYTICS: 'true' } },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), GENERATE_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(`allure generate failed (${signal ?? `exit ${code}`}): ${stderr.trim().slice(-500)}`),
        );
    });
  });
  for (const file of htmlFiles(outputDir)) writeFileSync(file, stripAnalytics(readFileSync(file, 'utf8')));
}
