import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export interface AllureReportOptions {
  /** Allure 3 categories (see allure-results.ts). */
  readonly categories?: readonly Record<string, unknown>[];
  /**
   * Where Allure keeps its history between runs (a `.jsonl` file, or a folder that gets
   * `history.jsonl`), so trends show across nights; none when absent.
   */
  readonly history?: string;
}

/** A history folder or file as the `.jsonl` file Allure 3 reads and appends to. */
export function allureHistoryFile(given: string): string {
  const path = resolve(given);
  if (extname(path) === '.jsonl') return path;
  return join(path, 'history.jsonl');
}

/**
 * The run's Allure configuration, written beside the results: one self-contained HTML file,
 * grouped by model/firmware then scenario family, with the run's categories and history file.
 */
function writeAllureConfig(resultsDir: string, options: AllureReportOptions): string {
  const config = {
    name: 'TrustLab conformance',
    plugins: { awesome: { options: { singleFile: true, groupBy: ['parentSuite', 'feature'] } } },
    ...(options.categories ? { categories: { rules: options.categories } } : {}),
    ...(options.history ? { historyPath: allureHistoryFile(options.history) } : {}),
  };
  if (options.history) mkdirSync(dirname(allureHistoryFile(options.history)), { recursive: true });
  const file = join(dirname(resolve(resultsDir)), 'allurerc.json');
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** Runs the Allure 3 CLI (`allure generate`), then strips analytics from the pages. */
export async function generateAllureReport(
  resultsDir: string,
  outputDir: string,
  options: AllureReportOptions = {},
): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`the Allure CLI is not installed (${CLI}); run npm install`);
  const CONFIG = writeAllureConfig(resultsDir, options);
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
