import type { AnchorRefusal, DeviceAnswerStage } from '../../contracts/case.ts';
import type { AtEngine } from '../at/engine.ts';
import type { DeviceOutcome, DeviceStages, RawCode, TimedUrc } from './driver.ts';

const stamp = () => new Date().toISOString();

/** What a driver collects while one case runs; turned into a DeviceOutcome at the end. */
export class CaseLog {
  readonly codes: RawCode[] = [];
  readonly urcs: TimedUrc[] = [];
  readonly diagnostics: RawCode[] = [];
  readonly readBack: Record<string, string> = {};
  /** The device refused the anchor's upload or binding (see `anchorStep`); the first refusal only. */
  anchorRefused: AnchorRefusal | null = null;
  /** URCs that arrived while the harness itself was restarting the module (not a fault). */
  readonly #ownRestart = new Set<TimedUrc>();
  /** True while the harness restarts the module on purpose: boot URCs then are its own doing. */
  restarting = false;
  readonly #stages: { -readonly [K in keyof DeviceStages]: string | null } = {
    tcp: null,
    tls: null,
    mqttConnack: null,
    publishAck: null,
  };

  /** Records every URC of the engine until the returned function is called. */
  listen(at: AtEngine): () => void {
    return at.onUrc((line) => {
      const urc = { line, at: stamp() };
      this.urcs.push(urc);
      if (this.restarting) this.#ownRestart.add(urc);
    });
  }

  /** URCs that did not arrive during a restart the harness asked for. */
  get unexpectedUrcs(): TimedUrc[] {
    return this.urcs.filter((u) => !this.#ownRestart.has(u));
  }

  code(step: string, raw: string): void {
    this.codes.push({ step, raw, at: stamp() });
  }

  refuseAnchor(stage: DeviceAnswerStage, command: string, raw: string): void {
    this.code(`anchor ${stage} refused`, raw);
    this.anchorRefused ??= { stage, command, raw, at: stamp() };
  }

  diagnostic(step: string, raw: string): void {
    this.diagnostics.push({ step, raw, at: stamp() });
  }

  /**
   * A wait for network registration: the last raw answer is a code (behaviour, compared across
   * runs), how long it took is a diagnostic (timing, which varies from run to run).
   */
  registration(step: string, wait: RegistrationWait): void {
    this.code(step, wait.raw);
    this.diagnostic(step, wait.note);
  }

  reach(stage: keyof DeviceStages): void {
    this.#stages[stage] ??= stamp();
  }

  get stages(): DeviceStages {
    return { ...this.#stages };
  }

  outcome(error: string | null, healthy: boolean, restoreFailures: string[]): DeviceOutcome {
    return {
      codes: this.codes,
      reached: {
        tlsOpened: this.#stages.tls !== null,
        mqttConnected: this.#stages.mqttConnack !== null,
        publishAcked: this.#stages.publishAck !== null,
      },
      error,
      healthy,
      stages: this.stages,
      urcs: this.urcs,
      diagnostics: this.diagnostics,
      settingsReadBack: { ...this.readBack },
      restoreFailures,
      anchorRefused: this.anchorRefused,
    };
  }
}

/** What a bounded registration wait ended with: the device's last raw answer, and a note on the wait. */
export interface RegistrationWait {
  readonly raw: string;
  readonly note: string;
}
