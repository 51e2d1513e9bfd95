import type { LabEvent } from './lab-run.ts';

const seconds = (ms: number) =>
  ms >= 120_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`;

interface DeviceLine {
  n: number;
  total: number;
  caseId: string;
  stage: string;
  elapsedMs: number;
  etaMs: number | null;
  at: number;
}

/**
 * Progress of several devices for a person. Lasting lines (health, exclusions, power cycles, each
 * case's outcome) scroll; on a terminal, a block below them keeps one live line per running device:
 * case n/N, the AT stage, elapsed time and ETA.
 */
export function labHumanProgress(stream: NodeJS.WriteStream = process.stderr): (event: LabEvent) => void {
  const live = stream.isTTY === true;
  const running = new Map<string, DeviceLine>();
  let drawn = 0;
  const erase = () => {
    if (!live || drawn === 0) return;
    stream.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = () => {
    if (!live) return;
    for (const [name, l] of running) {
      const elapsed = l.elapsedMs + (Date.now() - l.at);
      const eta = l.etaMs === null ? '' : ` · ETA ${seconds(l.etaMs)}`;
      const line = `[${name}] ${l.n}/${l.total} ${l.caseId} · ${l.stage} · elapsed ${seconds(elapsed)}${eta}`;
      stream.write(`${line.slice(0, (stream.columns ?? 120) - 1)}\n`);
    }
    drawn = running.size;
  };
  const lasting = (text: string) => {
    erase();
    stream.write(`${text}\n`);
    draw();
  };
  return (e) => {
    const name = e.device ?? '';
    const line = running.get(name);
    switch (e.event) {
      case 'health':
        return lasting(`[${name}] health: ${e.healthy ? 'healthy' : `not healthy — ${e.reason}`}`);
      case 'excluded':
        return lasting(`[${name}] excluded: ${e.reason}`);
      case 'power-cycle':
        return lasting(`[${name}] power cycle (${e.why}): ${e.command}`);
      case 'power-cycled':
        return lasting(
          `[${name}] power cycle ${e.ok ? 'done' : e.timedOut ? 'timed out' : `failed (exit ${e.exitCode})`}`,
        );
      case 'run-start':
        running.set(name, {
          n: 0,
          total: 0,
          caseId: '',
          stage: 'starting',
          elapsedMs: 0,
          etaMs: null,
          at: Date.now(),
        });
        return lasting(`[${name}] ${e.resumed ? 'resuming' : 'running'} in ${e.outDir}`);
      case 'case-start':
        running.set(name, {
          n: Number(e.n),
          total: Number(e.total),
          caseId: String(e.case),
          stage: 'starting',
          elapsedMs: Number(e.elapsedMs),
          etaMs: line?.etaMs ?? null,
          at: Date.now(),
        });
        erase();
        return draw();
      case 'stage':
        if (line)
          Object.assign(line, { stage: String(e.stage), elapsedMs: Number(e.elapsedMs), at: Date.now() });
        erase();
        return draw();
      case 'case-end': {
        if (line) line.etaMs = e.etaMs === null ? null : Number(e.etaMs);
        const eta = e.etaMs === null || e.etaMs === undefined ? '' : ` · ETA ${seconds(Number(e.etaMs))}`;
        const how = e.replayed ? 'already recorded' : seconds(Number(e.durationMs));
        return lasting(
          `[${name}] case ${e.n}/${e.total} ${e.case}: ${e.outcome} (${how}) · elapsed ${seconds(Number(e.elapsedMs))}${eta}`,
        );
      }
      case 'run-end':
        running.delete(name);
        return lasting(`[${name}] run ${e.status}: ${e.cases} cases, ${e.blocked} blocked`);
      case 'error':
        return lasting(`[${name}] trustlab run: ${e.message}`);
      case 'device-end':
        running.delete(name);
        return lasting(`[${name}] ${e.status}${e.reason ? `: ${e.reason}` : ''}`);
      default:
        return;
    }
  };
}
