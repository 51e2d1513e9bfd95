import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type mqtt from 'mqtt';
import { type EndpointConfig, type EndpointHandle, frontListen, resolveAddresses } from './endpoint.ts';
import { checkMosquittoSupport, mosquittoConf } from './mosquitto-conf.ts';
import { parseMosquittoLine } from './mosquitto-log.ts';
import { MOSQUITTO_GAPS, MosquittoLogApplier, startPayloadObserver } from './mosquitto-observer.ts';
import { startObservingFront } from './observing-front.ts';

const READY_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 3_000;
/** How long settle() waits for the log to describe connections the front already saw close. */
const LOG_CATCH_UP_MS = 1_000;

/** The mosquitto binary on PATH, or null. */
export function findMosquitto(): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin']) {
    const candidate = join(dir, 'mosquitto');
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** A loopback port that was free a moment ago (Mosquitto takes ports only from its config). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Reads what was appended to a log file since the last call; only whole lines. */
class LogTail {
  private offset = 0;
  private partial = '';
  constructor(private readonly path: string) {}
  lines(): string[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return [];
    }
    try {
      const chunks: Buffer[] = [];
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
        this.offset += n;
      }
      const text = this.partial + Buffer.concat(chunks).toString('utf8');
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      return parts;
    } finally {
      closeSync(fd);
    }
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Debian's Mosquitto 2.0 as a local process, behind the observing front. Outcomes come from its log
 * (a file: stdout is block-buffered when piped), PUBLISH payloads from an observer subscriber on a
 * second, plain loopback listener. Started as root it drops to user `mosquitto`, so its folder is
 * world-readable and its log world-writable; the keys are throwaway lab keys.
 */
export async function startMosquittoEndpoint(config: EndpointConfig): Promise<EndpointHandle> {
  checkMosquittoSupport('mosquitto', config);
  // Mosquitto binds only the ports its config names, picked free a moment before it starts; another
  // process can take one in between, and Mosquitto then exits at start-up. Fresh ports, bounded.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMosquittoOnce(config);
    } catch (error) {
      if (!(error instanceof MosquittoExitedError) || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

const START_ATTEMPTS = 3;

/** Mosquitto exited while starting (a port taken meanwhile, or a config it refused). */
class MosquittoExitedError extends Error {}

async function startMosquittoOnce(config: EndpointConfig): Promise<EndpointHandle> {
  const binary = findMosquitto();
  if (!binary) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const dir = mkdtempSync(join(tmpdir(), 'trustlab-mosquitto-'));
  chmodSync(dir, 0o755);
  const file = (name: string, text: string, mode = 0o644) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  };
  const [tlsPort, observerPort] = [await freePort(), await freePort()];
  const logPath = file('mosquitto.log', '', 0o666);
  const layout = {
    bindHost: '127.0.0.1',
    tlsPort,
    observerPort,
    certfile: file('chain.pem', config.chainPem),
    keyfile: file('key.pem', config.keyPem),
    cafile: file('client-ca.pem', config.clientAuth?.caPem ?? ''),
    logDest: logPath,
  };
  const confPath = file('mosquitto.conf', mosquittoConf(config, layout));
  const child = spawn(binary, ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.on('error', (err) => {
    stderr += err.message;
  });
  const tail = new LogTail(logPath);
  const startupLines: string[] = [];
  const cleanup = async () => {
    child.kill('SIGTERM');
    if (!(await waitForExit(child, STOP_TIMEOUT_MS))) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  // Ready when the log says "running"; a broker that exits or stays silent is an error with its log.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let running = false;
  while (!running && Date.now() < deadline && child.exitCode === null) {
    for (const line of tail.lines()) {
      startupLines.push(line);
      if (parseMosquittoLine(line)?.kind === 'running') running = true;
    }
    if (!running) await new Promise((r) => setTimeout(r, 5));
  }
  if (!running) {
    const why =
      child.exitCode !== null
        ? `exited with code ${child.exitCode}`
        : `not running after ${READY_TIMEOUT_MS} ms`;
    await cleanup();
    const message = `mosquitto ${why}: ${[...startupLines, stderr].join(' | ').slice(-800)}`;
    throw child.exitCode !== null ? new MosquittoExitedError(message) : new Error(message);
  }

  let front: Awaited<ReturnType<typeof startObservingFront>>;
  let observer: mqtt.MqttClient;
  let applier: MosquittoLogApplier;
  try {
    front = await startObservingFront({
      engine: 'mosquitto',
      listen: frontListen(config),
      upstream: { host: '127.0.0.1', port: tlsPort },
      refragmentHandshake: config.handshakeFragment ?? null,
      ...(config.serverHelloTamper ? { tamperServerHello: config.serverHelloTamper } : {}),
      gaps: MOSQUITTO_GAPS,
    });
    applier = new MosquittoLogApplier(front, tlsPort, 'port');
    observer = await startPayloadObserver('127.0.0.1', observerPort, applier);
  } catch (err) {
    await cleanup();
    throw err;
  }
  const refresh = () => {
    for (const line of tail.lines()) {
      const event = parseMosquittoLine(line);
      if (event) applier.apply(event);
    }
  };
  const notes = ['Mosquitto runs TLS; the front relays and reads the record layer'];
  if (config.handshakeFragment) {
    notes.push(`handshake records re-cut to ${config.handshakeFragment} bytes by the front: TLS ≤ 1.2 only`);
  }

  return {
    ...resolveAddresses(config, front.listenPort),
    engine: 'mosquitto',
    notes,
    observations() {
      refresh();
      return front.observations();
    },
    async settle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      await front.settle(timeoutMs);
      const logDeadline = Math.min(deadline, Date.now() + LOG_CATCH_UP_MS);
      for (;;) {
        refresh();
        if (applier.caughtUp() || Date.now() >= logDeadline) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      applier.flushUnmatched();
    },
    async stop() {
      await front.close();
      await observer.endAsync(true).catch(() => {});
      await cleanup();
    },
  };
}
