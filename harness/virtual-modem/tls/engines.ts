import type { TlsEngine, TlsEngineId } from './engine.ts';
import { gnutlsEngine } from './gnutls-engine.ts';
import { mbedtlsEngine } from './mbedtls-engine.ts';
import { nodeEngine } from './node-engine.ts';
import { opensslEngine } from './openssl-engine.ts';

export const TLS_ENGINES: Readonly<Record<TlsEngineId, TlsEngine>> = {
  mbedtls: mbedtlsEngine,
  node: nodeEngine,
  openssl: opensslEngine,
  gnutls: gnutlsEngine,
};

/** What a personality asks for: one engine, or the modem's own stack when it can be built. */
export type EngineChoice = TlsEngineId | 'auto';

export interface EngineSelection {
  readonly engine: TlsEngine;
  /** Why this engine answers; says so when the preferred one was not available. */
  readonly note: string;
}

/**
 * `auto` is mbedTLS (what the modems run) whenever its client builds here, else Node `tls`; a named
 * engine that is absent is an error, never a silent substitute.
 */
export async function selectEngine(choice: EngineChoice): Promise<EngineSelection> {
  if (choice !== 'auto') {
    const engine = TLS_ENGINES[choice];
    const a = await engine.available();
    if (!a.ok) throw new Error(`TLS engine ${choice} unavailable: ${a.reason}`);
    return { engine, note: `${choice} (asked for)` };
  }
  const m = await mbedtlsEngine.available();
  if (m.ok) return { engine: mbedtlsEngine, note: 'mbedtls (auto)' };
  return { engine: nodeEngine, note: `node (auto; mbedtls unavailable: ${m.reason})` };
}

/**
 * An engine chosen on first use, for callers that cannot wait (the built-in modem is created
 * synchronously): the choice and its note are the same as `selectEngine` gives.
 */
export function lazyEngine(choice: EngineChoice): { readonly engine: TlsEngine; note(): string } {
  let selection: Promise<EngineSelection> | null = null;
  let note = `${choice} (not chosen yet)`;
  const select = () => {
    selection ??= selectEngine(choice).then((s) => {
      note = s.note;
      return s;
    });
    return selection;
  };
  return {
    note: () => note,
    engine: {
      id: choice === 'auto' ? 'mbedtls' : choice,
      available: async () => (await select()).engine.available(),
      handshake: async (req) => (await select()).engine.handshake(req),
    },
  };
}
