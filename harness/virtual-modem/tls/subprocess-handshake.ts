import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ChildProcessStream } from './child-stream.ts';
import type { TlsEngineId, TlsHandshakeResult, TlsHandshakeStage } from './engine.ts';

export type LineVerdict =
  | { readonly ok: true; readonly version: string; readonly cipher: string }
  | {
      readonly ok: false;
      readonly stage: TlsHandshakeStage;
      readonly reason: string;
      readonly verifyFlags?: number;
    }
  | null;

export interface SubprocessPlan {
  readonly engine: TlsEngineId;
  readonly command: string;
  readonly args: readonly string[];
  readonly unsupported: readonly string[];
  readonly timeoutMs: number;
  /** The client prints diagnostics on stdout until this marker, then data (gnutls-cli). */
  readonly stdoutPreambleEnd?: string;
  /** Reads the client's diagnostic lines; answers once the handshake's fate is known. */
  interpret(line: string, seen: readonly string[]): LineVerdict;
  /** Called when the client exits before a verdict: the failure in its own words. */
  onEarlyExit(seen: readonly string[]): { readonly stage: TlsHandshakeStage; readonly reason: string };
}

/**
 * Runs a TLS client as a child process whose stdout/stdin carry application data and whose stderr
 * carries diagnostics; resolves once the handshake succeeded (with the data stream) or failed.
 */
export function runSubprocessHandshake(plan: SubprocessPlan): Promise<TlsHandshakeResult> {
  return new Promise((resolve) => {
    const child = spawn(plan.command, plan.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const seen: string[] = [];
    let settled = false;
    const finish = (result: TlsHandshakeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const failure = (stage: TlsHandshakeStage, reason: string, verifyFlags?: number): TlsHandshakeResult => ({
      ok: false,
      engine: plan.engine,
      stage,
      reason,
      unsupported: plan.unsupported,
      ...(verifyFlags === undefined ? {} : { verifyFlags }),
    });
    const fail = (stage: TlsHandshakeStage, reason: string) => {
      if (settled) return;
      stream.destroy();
      finish(failure(stage, reason));
    };
    const timer = setTimeout(
      () => fail('timeout', `no handshake within ${plan.timeoutMs} ms`),
      plan.timeoutMs,
    );
    child.on('error', (err) => fail('engine', `${plan.command}: ${err.message}`));
    // Created at once and left unread: bytes the server sends early wait in its buffer.
    const stream = new ChildProcessStream(child, plan.stdoutPreambleEnd, (text) => {
      for (const line of text.split('\n')) onLine(line.replace(/\r$/, ''));
    });
    function onLine(line: string): void {
      seen.push(line);
      if (settled) return;
      const verdict = plan.interpret(line, seen);
      if (verdict === null) return;
      if (verdict.ok) {
        finish({
          ok: true,
          engine: plan.engine,
          stream,
          version: verdict.version,
          cipher: verdict.cipher,
          unsupported: plan.unsupported,
        });
      } else {
        finish(failure(verdict.stage, verdict.reason, verdict.verifyFlags));
        // Give the client a moment to finish sending its alert before it is stopped.
        setTimeout(() => stream.destroy(), 50);
      }
    }
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('exit', () => {
      // Let the last stderr lines arrive before judging an exit without a verdict.
      setTimeout(() => {
        if (settled) return;
        const { stage, reason } = plan.onEarlyExit(seen);
        fail(stage, reason);
      }, 20);
    });
  });
}
