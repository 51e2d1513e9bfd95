import type { AnchorRefusal } from '../../contracts/case.ts';
import type { RotationCaseInput, RotationOutcome } from './rotation.ts';
import type { TlsCapabilities, TlsIntent } from './tls-intent.ts';

/** What a device says about itself, verbatim where it came from an AT answer. */
export interface DeviceIdentity {
  readonly manufacturer: string;
  readonly model: string;
  readonly firmware: string;
  readonly imei: string | null;
  /**
   * False when model, manufacturer or firmware stayed garbled after a second query: those fields
   * then say `unknown`, `raw` holds the answers escaped, and no baseline is filed under them.
   */
  readonly reliable?: boolean;
  readonly raw?: string;
  /** The device clock as it answered AT+CCLK? (raw), or null when it did not answer. */
  readonly clock?: string | null;
  /** Test-command (`=?`) answers captured once per device, verbatim: command → lines, or the final result when refused. */
  readonly capabilities?: Readonly<Record<string, readonly string[]>>;
}

export interface MqttCaseInput {
  readonly caseId: string;
  /** PEM bundle uploaded as the trust anchors; null uploads nothing. */
  readonly anchorsPem: string | null;
  /** The anchor as DER bytes, uploaded in place of the PEM text (the intent's `anchorEncoding: 'der'`). */
  readonly anchorsDer?: Buffer;
  /** The host and port the device dials. */
  readonly host: string;
  readonly port: number;
  /** What the TLS client is asked to do; the driver translates it, or refuses what it cannot express. */
  readonly intent: TlsIntent;
  readonly clientId: string;
  readonly topic: string;
  readonly payload: string;
  /** Device clock for the case (validity scenarios), put back afterwards; absent leaves the clock alone. */
  readonly clock?: Date;
  /** Client certificate chain and key (PEM) for mutual TLS (seclevel 2); uploaded under owned names and removed after. */
  readonly clientCertificate?: { readonly certPem: string; readonly keyPem: string };
}

/** A raw code as the device said it, and the step that produced it. */
export interface RawCode {
  readonly step: string;
  readonly raw: string;
  readonly at: string;
}

/** A URC the device sent during the case, with when it arrived. */
export interface TimedUrc {
  readonly line: string;
  readonly at: string;
}

/**
 * When the device reported each stage, ISO time, or null when it did not. `tcp` is null whenever the
 * dialect reports TCP and TLS together (QMTOPEN, #XCONNECT, #XMQTTCON): the device side cannot tell
 * them apart, only the server's record can.
 */
export interface DeviceStages {
  readonly tcp: string | null;
  readonly tls: string | null;
  readonly mqttConnack: string | null;
  readonly publishAck: string | null;
}

/** What the device side of a case did, in the device's own codes; never a guessed cause. */
export interface DeviceOutcome {
  readonly codes: RawCode[];
  /** The furthest stages the device reported. */
  readonly reached: {
    readonly tlsOpened: boolean;
    readonly mqttConnected: boolean;
    readonly publishAcked: boolean;
  };
  /** A harness-side failure (timeout, link lost, refused command) that stopped the case early. */
  readonly error: string | null;
  /** False when the device stopped answering or misbehaved: later cases must not run on it. */
  readonly healthy: boolean;
  readonly stages: DeviceStages;
  /** Every URC of the case, in arrival order. */
  readonly urcs: TimedUrc[];
  /** Answers to error queries after a failure (AT+QIGETERROR), verbatim. */
  readonly diagnostics: RawCode[];
  /** Settings as read back from the device after they were set (key → raw read-back line). */
  readonly settingsReadBack: Readonly<Record<string, string>>;
  /** Restores that failed (label: error); empty when the device was left as found. */
  readonly restoreFailures: string[];
  /** The device refused the trust anchor's upload or binding with its own error code. */
  readonly anchorRefused?: AnchorRefusal | null;
}

/** One modem family's dialect. Adding a family adds one folder implementing this. */
export interface ModemDriver {
  readonly family: string;
  identify(): Promise<DeviceIdentity>;
  /** What this device's TLS client can be told, learned from its own answers (after identify). */
  tlsCapabilities(): Promise<TlsCapabilities>;
  /** Upload anchors, configure TLS, open, connect, publish, close; restores what it changed. */
  runMqttCase(input: MqttCaseInput): Promise<DeviceOutcome>;
  /** Undoes whatever the case in progress changed (abort path, e.g. SIGINT); safe to call at any time. */
  abort?(): Promise<string[]>;
  /**
   * Puts back what the run changed and kept between cases (delta configuration): settings, owned
   * files, the clock. Returns `label: error` for each that could not be put back.
   */
  restoreAll?(): Promise<string[]>;
  /** CA rotation (rebind without reboot, or settings across a reboot); absent when the dialect cannot express it. */
  runRotationCase?(input: RotationCaseInput): Promise<RotationOutcome>;
}
