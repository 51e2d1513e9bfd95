import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordSplitter } from '../wire-tap.ts';

export interface ToolRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/**
 * Runs a reference client asynchronously (never execFileSync: it would block the event loop of the
 * process that hosts the server) and kills it after `timeoutMs`.
 */
export function runTool(
  command: string,
  args: readonly string[],
  stdin = '',
  timeoutMs = 10_000,
): Promise<ToolRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${err.message}`, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

/** Writes PEM texts into a fresh temp folder and returns their paths by name. */
export function pemFiles(files: Record<string, string>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'trustlab-client-'));
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    out[name] = join(dir, `${name}.pem`);
    writeFileSync(out[name], text);
  }
  return out;
}

/** `openssl s_client` against 127.0.0.1:port with extra args; 'Q' on stdin ends it after the handshake. */
export function sClient(port: number, args: readonly string[]): Promise<ToolRun> {
  return runTool('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], 'Q\n');
}

export function gnutlsCli(port: number, args: readonly string[]): Promise<ToolRun> {
  return runTool('gnutls-cli', ['--port', String(port), ...args, '127.0.0.1'], '');
}

/**
 * A byte-counting relay a client connects through: what the server's records looked like on the
 * client's side of the wire (independent of the endpoint's own front).
 */
export async function recordCountingRelay(targetPort: number) {
  const seen = { serverRecords: 0, serverMaxRecordLength: 0 };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const splitter = new RecordSplitter();
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      for (const r of splitter.push(chunk)) {
        seen.serverRecords++;
        seen.serverMaxRecordLength = Math.max(seen.serverMaxRecordLength, r.payload.length);
      }
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
