/** One chunk of bytes on the wire, as it passed. */
export interface TranscriptEntry {
  /** Milliseconds since the Unix epoch. */
  readonly t: number;
  /** `tx`: host → device; `rx`: device → host; `note`: the harness's own remark. */
  readonly dir: 'tx' | 'rx' | 'note';
  readonly data: string;
}

/** Timestamped record of every byte each way. Cases take slices of it by position. */
export class Transcript {
  readonly #entries: TranscriptEntry[] = [];

  record(dir: TranscriptEntry['dir'], data: Buffer | string): void {
    this.#entries.push({
      t: Date.now(),
      dir,
      data: typeof data === 'string' ? data : data.toString('latin1'),
    });
  }

  /** A position to slice from later. */
  mark(): number {
    return this.#entries.length;
  }

  since(mark: number): TranscriptEntry[] {
    return this.#entries.slice(mark);
  }
}

/** Escapes CR, LF and other bytes a terminal would swallow, so the transcript shows every byte. */
function escapeControl(s: string): string {
  let out = '';
  for (const c of s) {
    const code = c.charCodeAt(0);
    if (c === '\r') out += '\\r';
    else if (c === '\n') out += '\\n';
    else if (code < 0x20 || code >= 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out;
}

/** Human-readable form: one line per chunk, with time offset, direction and escaped bytes. */
export function formatTranscript(entries: readonly TranscriptEntry[]): string {
  const start = entries[0]?.t ?? 0;
  const arrow = { tx: '>>', rx: '<<', note: '##' } as const;
  return entries
    .map((e) => `${String(e.t - start).padStart(7)} ms ${arrow[e.dir]} ${escapeControl(e.data)}`)
    .join('\n');
}
