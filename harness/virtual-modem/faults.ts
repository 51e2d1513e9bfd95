/**
 * Faults a virtual modem injects on purpose, configured as data, so the harness's reliability
 * handling is tested against the failures real modules show.
 */
export interface FaultTrigger {
  /** Pattern matched against the command line as typed (case-insensitive). */
  readonly command: string;
  /** Which matching command fires it (1 = the first); default 1. */
  readonly occurrence?: number;
}

export type Fault =
  /** The module restarts instead of answering: RDY follows, files stay, contexts and sessions are lost. */
  | { readonly kind: 'reboot'; readonly on: FaultTrigger }
  /** After answering, the network drops the PDP context (+QIURC: "pdpdeact"); every session closes. */
  | { readonly kind: 'pdp-deactivate'; readonly on: FaultTrigger }
  /** A URC is never sent. */
  | { readonly kind: 'lose-urc'; readonly urc: string; readonly occurrence?: number }
  /** Noise on the line before the answer (a UART glitch, a stray debug print). */
  | { readonly kind: 'garbage'; readonly on: FaultTrigger; readonly bytes?: string }
  /** Bytes of an upload after the first `keepBytes` are lost on the line (the module waits for the rest). */
  | { readonly kind: 'truncate-upload'; readonly keepBytes: number; readonly on?: FaultTrigger }
  /** The answer comes later than the vendor's documented maximum. */
  | { readonly kind: 'slow-answer'; readonly on: FaultTrigger; readonly delayMs: number }
  /**
   * Just before the command acts, the module restarts without a word (no RDY, files kept): its
   * volatile TLS settings are back to their defaults, so the command runs without TLS where the
   * dialect keeps TLS apart from the connection (Quectel: SSL contexts, QMTCFG "ssl"); where TLS
   * travels with the connect command (nRF91 SLM #XMQTTCON's sec_tag) the next connect drops it.
   * The device then reports success on a plain TCP connection: only the server can tell.
   */
  | { readonly kind: 'silent-reset'; readonly on: FaultTrigger }
  /** The command is refused (ERROR, or the given final) without being carried out: a transient refusal. */
  | { readonly kind: 'refuse'; readonly on: FaultTrigger; readonly final?: string };

export type FaultKind = Fault['kind'];

/** What happens around one command. */
export interface CommandFaults {
  readonly reboot: boolean;
  readonly pdpDeactivate: boolean;
  readonly garbage: string | null;
  readonly delayMs: number;
  readonly truncateUploadAt: number | null;
  readonly silentReset: boolean;
  /** The final result to answer instead of carrying the command out, or null. */
  readonly refuse: string | null;
}

const DEFAULT_GARBAGE = '\x00\xff#~\x1b[0m\r\n';

/** Counts commands and URCs and says which configured faults fire; each fault fires once. */
export class FaultPlan {
  readonly #faults: Fault[];
  readonly #counts = new Map<Fault, number>();
  readonly #fired: { kind: FaultKind; at: string; detail: string }[] = [];

  constructor(faults: readonly Fault[] = []) {
    // A pattern that does not compile is a configuration error now, not a crash on the first command.
    faults.forEach((f, i) => {
      const pattern = f.kind === 'lose-urc' ? f.urc : f.on?.command;
      if (pattern === undefined) return;
      try {
        new RegExp(pattern, 'i');
      } catch (error) {
        throw new Error(
          `fault ${i + 1} (${f.kind}): ${JSON.stringify(pattern)} is not a regular expression (${(error as Error).message}); escape + and ( as \\+ and \\(`,
        );
      }
    });
    this.#faults = [...faults];
  }

  /** Faults that fired, in order: the harness's tests assert on what was injected. */
  fired(): readonly { kind: FaultKind; at: string; detail: string }[] {
    return this.#fired;
  }

  #hit(fault: Fault, pattern: string, text: string, occurrence = 1): boolean {
    if (!new RegExp(pattern, 'i').test(text)) return false;
    const n = (this.#counts.get(fault) ?? 0) + 1;
    this.#counts.set(fault, n);
    if (n !== occurrence) return false;
    this.#fired.push({ kind: fault.kind, at: new Date().toISOString(), detail: text });
    return true;
  }

  forCommand(line: string): CommandFaults {
    let reboot = false;
    let pdpDeactivate = false;
    let garbage: string | null = null;
    let delayMs = 0;
    let truncateUploadAt: number | null = null;
    let silentReset = false;
    let refuse: string | null = null;
    for (const f of this.#faults) {
      switch (f.kind) {
        case 'reboot':
          reboot ||= this.#hit(f, f.on.command, line, f.on.occurrence);
          break;
        case 'pdp-deactivate':
          pdpDeactivate ||= this.#hit(f, f.on.command, line, f.on.occurrence);
          break;
        case 'garbage':
          if (this.#hit(f, f.on.command, line, f.on.occurrence)) garbage = f.bytes ?? DEFAULT_GARBAGE;
          break;
        case 'slow-answer':
          if (this.#hit(f, f.on.command, line, f.on.occurrence)) delayMs += f.delayMs;
          break;
        case 'truncate-upload': {
          const on = f.on ?? { command: '^AT\\+QFUPL=' };
          if (this.#hit(f, on.command, line, on.occurrence)) truncateUploadAt = f.keepBytes;
          break;
        }
        case 'refuse':
          if (this.#hit(f, f.on.command, line, f.on.occurrence)) refuse = f.final ?? 'ERROR';
          break;
        case 'silent-reset':
          silentReset ||= this.#hit(f, f.on.command, line, f.on.occurrence);
          break;
        case 'lose-urc':
          break;
      }
    }
    return { reboot, pdpDeactivate, garbage, delayMs, truncateUploadAt, silentReset, refuse };
  }

  /** True when this URC is to be lost. */
  losesUrc(line: string): boolean {
    return this.#faults.some((f) => f.kind === 'lose-urc' && this.#hit(f, f.urc, line, f.occurrence));
  }
}
