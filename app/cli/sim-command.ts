import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { type Command, Option } from 'commander';
import { DEFAULT_FAMILY, FAMILY_NAMES, familyNamed } from '../../harness/families.ts';
import { createMemoryPair } from '../../harness/transport/memory-pair.ts';
import { isLoopback, type VirtualNetwork } from '../../harness/virtual-modem/network.ts';
import { PERSONALITIES } from '../../harness/virtual-modem/personality.ts';
import {
  type RunningVirtualModem,
  startVirtualModem,
  type VirtualModemConfig,
} from '../../harness/virtual-modem/start.ts';

export interface SimOptions {
  readonly listen: string;
  /** Trust personality; absent: the family's default. */
  readonly profile?: string;
  readonly family: string;
  readonly model?: string;
  readonly firmware?: string;
  /** name=address entries for the modem's hosts map. */
  readonly host?: readonly string[];
  /** JSON file with more VirtualModemConfig fields (latency, faults, files, builtinAnchorsPem…). */
  readonly config?: string;
  readonly allowNonLoopback?: boolean;
}

export interface SimServer {
  readonly host: string;
  readonly port: number;
  readonly modem: RunningVirtualModem;
  /** Resolves once no client is attached (at once when none is), so the next one is not refused. */
  free(): Promise<void>;
  stop(): Promise<void>;
}

function parseListen(text: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--listen ${text}: expected tcp://host:port`);
  }
  const port = Number(url.port);
  if (url.protocol !== 'tcp:' || !url.hostname || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--listen ${text}: expected tcp://host:port`);
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

function hostsMap(entries: readonly string[] = []): Record<string, string> {
  const hosts: Record<string, string> = { localhost: '127.0.0.1' };
  for (const e of entries) {
    const [name, address] = e.split('=');
    if (!name || !address) throw new Error(`--host ${e}: expected name=address`);
    hosts[name.toLowerCase()] = address;
  }
  return hosts;
}

/**
 * Serves one virtual modem over TCP the way ser2net serves a serial port: the modem is powered
 * once and keeps its files and settings across connections; one client at a time (a second one is
 * refused while the first is attached); bytes sent while nobody is attached are lost, as on an
 * unattended UART. Listens on loopback only unless told otherwise.
 */
export async function startSimServer(options: SimOptions): Promise<SimServer> {
  const listen = parseListen(options.listen);
  if (!options.allowNonLoopback && !(isLoopback(listen.host) || listen.host === 'localhost')) {
    throw new Error(
      `--listen ${options.listen}: not a loopback address (add --allow-non-loopback to serve it)`,
    );
  }
  const extra = options.config
    ? (JSON.parse(readFileSync(options.config, 'utf8')) as Partial<VirtualModemConfig>)
    : {};
  const network: VirtualNetwork = {
    ...(extra.network ?? {}),
    hosts: { ...hostsMap(options.host), ...(extra.network?.hosts ?? {}) },
    allowNonLoopback: options.allowNonLoopback ?? false,
  };
  const [hostEnd, modemEnd] = createMemoryPair();
  const modem = await startVirtualModem(
    {
      ...extra,
      family: options.family,
      personality: (options.profile ??
        familyNamed(options.family).virtual.defaultPersonality) as VirtualModemConfig['personality'],
      network,
      ...(extra.clock ? { clock: new Date(extra.clock) } : {}),
      ...(options.model ? { model: options.model } : {}),
      ...(options.firmware ? { firmware: options.firmware } : {}),
    },
    modemEnd,
  );
  let client: Socket | null = null;
  let freed: (() => void)[] = [];
  hostEnd.on('data', (chunk: Buffer) => {
    if (client && !client.destroyed) client.write(chunk);
  });
  const server: Server = createServer((socket) => {
    if (client) {
      socket.end('busy: another client holds this modem\r\n');
      return;
    }
    client = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => hostEnd.write(chunk));
    socket.on('error', () => {});
    socket.once('close', () => {
      if (client !== socket) return;
      client = null;
      for (const wake of freed) wake();
      freed = [];
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  return {
    host: listen.host,
    port,
    modem,
    free: () => (client ? new Promise<void>((resolve) => freed.push(resolve)) : Promise.resolve()),
    async stop() {
      client?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      modem.stop();
      hostEnd.destroy();
    },
  };
}

/** Registers `trustlab sim` on the CLI. */
export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description(
      'serve the virtual modem over TCP like ser2net, for any AT tool or `trustlab run --device tcp://…`',
    )
    .requiredOption('--listen <url>', 'tcp://127.0.0.1:PORT (loopback only unless --allow-non-loopback)')
    .addOption(
      new Option('--profile <name>', "trust personality (default: the family's own)").choices(
        Object.keys(PERSONALITIES),
      ),
    )
    .addOption(new Option('--family <family>', 'AT dialect').choices(FAMILY_NAMES).default(DEFAULT_FAMILY))
    .addOption(
      new Option('--driver <family>', 'the same as --family, as trustlab run spells it').choices(
        FAMILY_NAMES,
      ),
    )
    .option('--model <model>', "model the modem reports (default: the family's own)")
    .option('--firmware <revision>', 'firmware revision the modem reports')
    .option('--host <name=address...>', 'hosts map entries for names the modem dials')
    .option('--config <file>', 'JSON with latency, faults, files, clock, builtinAnchorsPem')
    .option('--allow-non-loopback', 'listen on and dial beyond 127.0.0.0/8')
    .action(async (options: SimOptions & { driver?: string }) => {
      const { driver, ...rest } = options;
      if (driver && rest.family !== DEFAULT_FAMILY && driver !== rest.family) {
        console.error(`trustlab sim: --driver ${driver} and --family ${rest.family} disagree; give one`);
        process.exit(2);
      }
      const sim = await startSimServer({ ...rest, family: driver ?? rest.family }).catch((error: Error) => {
        console.error(`trustlab sim: ${error.message}`);
        process.exit(2);
      });
      const m = sim.modem;
      console.log(
        `trustlab sim: ${m.model} ${m.firmware} (${m.personality}, TLS: ${m.engineNote}) on tcp://${sim.host}:${sim.port}`,
      );
      const stop = () => void sim.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
