import type { ServerHelloTamper } from '../brokers/server-hello-tamper.ts';
import type { LadderRung } from '../certs/catalogue/index.ts';
import type { AnchorFileFormat } from '../certs/pem.ts';
import type { ProfileName } from './profiles.ts';

/**
 * The scenario model: one typed shape for every case the suite can run, kept as plain data so it
 * serialises to JSON and validates against `SCENARIO_SCHEMA` (scenario-schema.ts, tested to agree).
 */

/** SSL settings of the device for one case, in the vendor's terms (Quectel AT+QSSLCFG keys). */
export interface DeviceSettings {
  /** 0 no authentication, 1 server, 2 server and client. */
  readonly seclevel: 0 | 1 | 2;
  /** Quectel numbering: 1 TLS 1.0, 2 TLS 1.1, 3 TLS 1.2, 4 all (0 = SSL 3.0 is never run). */
  readonly sslversion: 1 | 2 | 3 | 4;
  readonly sni: 0 | 1;
  /** 0: validity is checked against the module clock, which the harness sets for the case. */
  readonly ignorelocaltime: 0 | 1;
  /** `0XFFFF` = every suite the module has, else one IANA id in the vendor's hex form. */
  readonly ciphersuite: string;
  readonly ignoreinvalidcertsign: 0 | 1;
  readonly ignoremulticertchainverify: 0 | 1;
  /** What the device dials: the lab's DNS name, or its IP literal. */
  readonly dial: 'hostname' | 'ip';
}

export const DEFAULT_SETTINGS: DeviceSettings = {
  seclevel: 1,
  sslversion: 4,
  sni: 1,
  ignorelocaltime: 0,
  ciphersuite: '0XFFFF',
  ignoreinvalidcertsign: 0,
  ignoremulticertchainverify: 0,
  dial: 'hostname',
};

export type TlsVersionName = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** What the broker does beyond serving the chain: versions, suites, client auth, fragmentation. */
export interface ServerBehaviour {
  readonly minTlsVersion?: TlsVersionName;
  readonly maxTlsVersion?: TlsVersionName;
  /** OpenSSL cipher list for TLS ≤ 1.2. */
  readonly ciphers?: string;
  /** Ask for a client certificate issued by the spec's client anchors; `required` refuses without one. */
  readonly clientAuth?: 'requested' | 'required';
  /** Records of at most this many bytes for the handshake. */
  readonly handshakeFragment?: 512 | 1024 | 2048 | 4096;
  /** The ServerHello changed on its way to the device (a downgrade sentinel, a suite it never offered). */
  readonly serverHelloTamper?: ServerHelloTamper;
}

/** What a profile says a conforming client does, and why when profiles disagree. */
export interface ProfileExpectation {
  readonly result: 'accept' | 'reject';
  /** Required whenever the profiles do not all agree: the rule this profile follows. */
  readonly because?: string;
}

/**
 * Something the device must be seen doing before a case can say anything (BetterTLS's probes).
 * - `chain-verification`: it refuses a chain from an unrelated root (else nothing is checked).
 * - `hostname-verification`: it refuses a SAN naming another host under the case's SNI setting.
 * - `validity-check`: it refuses an expired leaf with the clock set.
 * - `client-certificate`: the driver can give the device a client certificate.
 */
export type Feature =
  | 'chain-verification'
  | 'hostname-verification'
  | 'validity-check'
  | 'client-certificate';
export const FEATURES: readonly Feature[] = [
  'chain-verification',
  'hostname-verification',
  'validity-check',
  'client-certificate',
];

/** Execution order, as in BetterTLS: sanity first, then the probes, then everything else. */
export type Phase = 'sanity' | 'probe' | 'catalogue';

export interface Scenario {
  /** `family::name`, stable: results, baselines and diffs key on it. */
  readonly id: string;
  readonly title: string;
  readonly phase: Phase;
  /** A defect must be refused by a conforming client; a control must be accepted (it probes a capability). */
  readonly kind: 'defect' | 'control';
  /** The certs catalogue entry and which side of it this scenario serves. */
  readonly certs: {
    readonly entry: string;
    readonly variant: 'spec' | 'twin';
    /**
     * `lab-public-root`: the chain is issued under the lab's stand-in for a public root (the one the
     * virtual modem's built-in store holds); the spec variant uploads an unrelated root instead.
     */
    readonly issuer?: 'lab-public-root';
  };
  /** The scenario that differs from this one by exactly the defect; null for a control. */
  readonly twin: string | null;
  readonly settings: DeviceSettings;
  readonly server: ServerBehaviour;
  readonly expected: Readonly<Record<ProfileName, ProfileExpectation>>;
  /** Features the device must have shown for this case to mean anything. */
  readonly requires: readonly Feature[];
  /** A rung of a ladder (sizes, keys, fragment sizes): the trust model reads the ladder as a whole. */
  readonly ladder?: LadderRung;
  /** Only in the full matrix (`--full`): the default runs one representative of each ladder. */
  readonly fullOnly?: boolean;
  /** The uploaded anchors file written another way (CRLF, BOM, trailing bytes); absent: PEM with LF. */
  readonly anchorFile?: AnchorFileFormat;
}

/** One runnable case: a scenario under one set of device settings. */
export interface MatrixCase {
  /** The scenario id under its own settings; `scenario[key=value,…]` under varied settings. */
  readonly id: string;
  readonly scenario: Scenario;
  readonly settings: DeviceSettings;
  /** The expectation per profile under these settings (knobs such as seclevel 0 change it). */
  readonly expected: Readonly<Record<ProfileName, ProfileExpectation>>;
}
