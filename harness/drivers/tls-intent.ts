/**
 * What a case asks of the device's TLS client, in no dialect's terms. Suites build intents; each
 * driver translates them into its own commands, and nothing else does.
 */

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** `none`: no verification; `server`: the server's chain; `mutual`: that plus a client certificate. */
export type PeerVerification = 'none' | 'server' | 'mutual';

export interface TlsIntent {
  readonly peerVerification: PeerVerification;
  /** `all`: every version the device has; otherwise only this one is offered. */
  readonly version: 'all' | TlsVersion;
  /** Send server_name in the ClientHello. */
  readonly sni: boolean;
  /**
   * A hostname check switched on or off explicitly; absent leaves it to the device. Only a dialect
   * with its own switch can express a value.
   */
  readonly hostnameCheck?: boolean;
  /** `validate`: validity is judged against the device clock (set by the harness); `ignore`: the device's switch that skips it. */
  readonly deviceClock: 'validate' | 'ignore';
  /** `all`: every suite the device has; otherwise only these (IANA ids, `0xC02F`). */
  readonly cipherSuites: 'all' | readonly string[];
  /** Vendor switches by capability name (`quectel.ignoreinvalidcertsign` → `1`); empty for none. */
  readonly vendor: Readonly<Record<string, string>>;
  /** `der`: the anchor is uploaded as one binary DER certificate; absent: PEM text. */
  readonly anchorEncoding?: 'der';
}

export const DEFAULT_INTENT: TlsIntent = {
  peerVerification: 'server',
  version: 'all',
  sni: true,
  deviceClock: 'validate',
  cipherSuites: 'all',
  vendor: {},
};

/** A setting as the device held it before the harness changed anything: its default, or the product's own value. */
export interface SettingAsFound {
  /** What the setting is about, in no dialect's terms (`sni`). */
  readonly name: string;
  /** The device's answer, verbatim. */
  readonly raw: string;
  /** What that answer means, in one phrase (`SNI off`). */
  readonly meaning: string;
}

/**
 * What a device can express, learned by its driver from the module's own answers (test commands,
 * read-backs) or, where the dialect has no switch at all, from what the dialect is.
 */
export interface TlsCapabilities {
  readonly peerVerification: readonly PeerVerification[];
  /** Single versions the device can be limited to (`all` is always expressible). */
  readonly versions: readonly TlsVersion[];
  /** A switch for SNI; without one the device's fixed behaviour is `sniFixed`. */
  readonly sniSwitch: boolean;
  /** What the device does without a switch (null: unknown). */
  readonly sniFixed: boolean | null;
  readonly hostnameCheckSwitch: boolean;
  /** A switch that makes the device ignore its clock for validity. */
  readonly clockSwitch: boolean;
  /** Whether it can be limited to chosen suites, and which (empty: any id it is given). */
  readonly cipherSuiteSelection: boolean;
  readonly cipherSuites: readonly string[];
  /** Named vendor switches this device has (`quectel.ignoreinvalidcertsign`). */
  readonly vendor: readonly string[];
  /** Its certificate upload takes binary bytes (a DER file); absent: PEM text only. */
  readonly derAnchors?: boolean;
  /** Where these came from, one line per source, for the record. */
  readonly basis: readonly string[];
  /** Settings read before the harness changed any (what the device does when nobody tells it). */
  readonly asFound?: readonly SettingAsFound[];
  /** Set when the device can run no case at all (its client is missing): every intent fails with it. */
  readonly unavailable?: string;
}

const sameSuite = (a: string, b: string) => Number.parseInt(a, 16) === Number.parseInt(b, 16);

/**
 * Why this device cannot be given this intent, in one sentence naming the missing switch; null when
 * it can. Checked before anything is sent: a case it returns a reason for is skipped, never run.
 */
export function inexpressible(intent: TlsIntent, caps: TlsCapabilities, family: string): string | null {
  const why = (missing: string) => `not expressible on ${family}: ${missing}`;
  if (caps.unavailable) return why(caps.unavailable);
  if (!caps.peerVerification.includes(intent.peerVerification))
    return why(
      `peer verification "${intent.peerVerification}" (it has ${caps.peerVerification.join(', ') || 'none'})`,
    );
  if (intent.version !== 'all' && !caps.versions.includes(intent.version))
    return why(`no setting that limits it to ${intent.version}`);
  if (!caps.sniSwitch && caps.sniFixed !== intent.sni)
    return why(
      `no switch for SNI (it ${caps.sniFixed === null ? 'has a fixed behaviour' : caps.sniFixed ? 'always sends it' : 'never sends it'})`,
    );
  if (intent.hostnameCheck !== undefined && !caps.hostnameCheckSwitch)
    return why('no switch for the hostname check');
  if (intent.deviceClock === 'ignore' && !caps.clockSwitch) return why('no switch for the device clock');
  if (intent.cipherSuites !== 'all') {
    if (!caps.cipherSuiteSelection) return why('no setting that limits the cipher suites');
    const unknown = intent.cipherSuites.filter(
      (s) => caps.cipherSuites.length > 0 && !caps.cipherSuites.some((c) => sameSuite(c, s)),
    );
    if (unknown.length > 0) return why(`cipher suite ${unknown.join(', ')} is not one it lists`);
  }
  if (intent.anchorEncoding === 'der' && !caps.derAnchors)
    return why('its certificate upload takes PEM text only (no DER file)');
  const missing = Object.keys(intent.vendor).filter((k) => !caps.vendor.includes(k));
  if (missing.length > 0) return why(`no ${missing.join(', ')} switch`);
  return null;
}
