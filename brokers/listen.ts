import type net from 'node:net';

/** Where an endpoint listens: one fixed port, the first free port of a pool, or any free port. */
export interface ListenSpec {
  readonly host: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Ports to try in order; the first that binds wins. Overrides `port`. */
  readonly portPool?: readonly number[];
}

function listenOnce(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      server.removeListener('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.removeListener('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

/** Binds `server` per `spec` and returns the port it got; a pool with no free port says which it tried. */
export async function listenOn(server: net.Server, spec: ListenSpec): Promise<number> {
  const candidates = spec.portPool && spec.portPool.length > 0 ? spec.portPool : [spec.port ?? 0];
  const failures: string[] = [];
  for (const port of candidates) {
    try {
      await listenOnce(server, spec.host, port);
      return (server.address() as net.AddressInfo).port;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      if (code !== 'EADDRINUSE' || candidates.length === 1) {
        throw new Error(`cannot listen on ${spec.host}:${port}: ${code}`);
      }
      failures.push(`${port}`);
    }
  }
  throw new Error(`no free port in the pool on ${spec.host} (tried ${failures.join(', ')})`);
}

export function closeServer(server: net.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
