/** What a device says about itself, verbatim where it came from an AT answer. */
export interface DeviceIdentity {
  readonly manufacturer: string;
  readonly model: string;
  readonly firmware: string;
  readonly imei: string | null;
}

/** SSL settings a scenario runs under, in the vendor's own terms. */
export interface DeviceTlsSettings {
  /** 0 no authentication, 1 server, 2 server and client. */
  readonly seclevel: 0 | 1 | 2;
  /** Quectel numbering: 0 SSL3, 1 TLS1.0, 2 TLS1.1, 3 TLS1.2, 4 all. */
  readonly sslversion: 0 | 1 | 2 | 3 | 4;
  readonly sni: 0 | 1;
}

export interface MqttCaseInput {
  readonly caseId: string;
  /** PEM bundle uploaded as the trust anchors; null uploads nothing. */
  readonly anchorsPem: string | null;
  /** The host and port the device dials. */
  readonly host: string;
  readonly port: number;
  readonly settings: DeviceTlsSettings;
  readonly clientId: string;
  readonly topic: string;
  readonly payload: string;
}

/** A raw code as the device said it, and the step that produced it. */
export interface RawCode {
  readonly step: string;
  readonly raw: string;
  readonly at: string;
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
}

/** One modem family's dialect. Adding a family adds one folder implementing this. */
export interface ModemDriver {
  readonly family: string;
  identify(): Promise<DeviceIdentity>;
  /** Upload anchors, configure TLS, open, connect, publish, close; restores what it changed. */
  runMqttCase(input: MqttCaseInput): Promise<DeviceOutcome>;
}
