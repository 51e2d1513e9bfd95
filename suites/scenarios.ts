import { CATALOGUE, type CatalogueEntry } from '../certs/catalogue/index.ts';
import { ANCHOR_FILE_FORMATS, type AnchorFileFormat } from '../certs/pem.ts';
import type { PkiSpec } from '../certs/pki-spec.ts';
import { expectationFor, unanimous } from './expectations.ts';
import { PROFILE_NAMES, type ProfileName } from './profiles.ts';
import {
  DEFAULT_SETTINGS,
  type DeviceSettings,
  type Feature,
  type Phase,
  type ProfileExpectation,
  type Scenario,
  type ServerBehaviour,
} from './scenario-model.ts';

export type { Scenario } from './scenario-model.ts';

/** Valid chain, right CA: if this fails the device or the lab is broken and the rest is blocked. */
export const SANITY = 'anchors::right-ca';

/** Probes, in order, and the feature each one shows when the device refuses it. */
export const PROBES: Readonly<Record<string, Feature>> = {
  'anchors::wrong-ca': 'chain-verification',
  'names::san-mismatch': 'hostname-verification',
  'validity::leaf-expired': 'validity-check',
};

/** Catalogue controls already covered by another scenario with the same hierarchy. */
const COVERED = new Set(['chains::intermediates-1']);

/** A spec's shape without its name: two specs with the same shape make the same chain. */
const shapeOf = (spec: PkiSpec) => JSON.stringify({ ...spec, name: '' });

function dialOf(spec: PkiSpec): DeviceSettings['dial'] {
  return /^[\d.]+$|:/.test(spec.dialledHost) ? 'ip' : 'hostname';
}

function featuresFor(entry: CatalogueEntry, id: string): Feature[] {
  const needs: Feature[] = [];
  if (entry.family === 'client') return ['client-certificate'];
  if (!(id in PROBES) && entry.kind === 'defect') needs.push('chain-verification');
  if (entry.family === 'names' && entry.kind === 'defect' && !(id in PROBES))
    needs.push('hostname-verification');
  if (entry.family === 'validity' && !(id in PROBES)) needs.push('validity-check');
  return needs;
}

function serverFor(entry: CatalogueEntry): ServerBehaviour {
  // TLS 1.2: a TLS 1.3 client finishes before the server judges its certificate, so a reference
  // client would report a refused client certificate as a completed handshake.
  return entry.family === 'client' ? { clientAuth: 'required', maxTlsVersion: 'TLSv1.2' } : {};
}

function settingsFor(entry: CatalogueEntry, spec: PkiSpec): DeviceSettings {
  return {
    ...DEFAULT_SETTINGS,
    ...(entry.family === 'client' ? { seclevel: 2 as const } : {}),
    dial: dialOf(spec),
  };
}

function phaseOf(id: string): Phase {
  if (id === SANITY) return 'sanity';
  return id in PROBES ? 'probe' : 'catalogue';
}

/**
 * Every scenario the catalogue yields: each entry's spec (its defect or control), and a twin
 * scenario for each defect whose twin no other scenario already serves.
 */
function catalogueScenarios(catalogue: readonly CatalogueEntry[]): Scenario[] {
  const standard = catalogue.find((e) => e.id === 'anchors::wrong-ca');
  if (!standard) throw new Error('the catalogue has no anchors::wrong-ca entry');
  const sanity: Scenario = {
    id: SANITY,
    title: 'valid chain (root → intermediate → leaf), the issuing root uploaded',
    phase: 'sanity',
    kind: 'control',
    certs: { entry: standard.id, variant: 'twin' },
    twin: null,
    settings: settingsFor(standard, standard.twin),
    server: {},
    expected: unanimous('accept'),
    requires: [],
  };
  const byShape = new Map<string, string>([[shapeOf(standard.twin), SANITY]]);
  const scenarios: Scenario[] = [sanity];
  for (const entry of catalogue) {
    if (COVERED.has(entry.id)) continue;
    const id = entry.id;
    scenarios.push({
      id,
      title: entry.title,
      phase: phaseOf(id),
      kind: entry.kind,
      certs: { entry: entry.id, variant: 'spec' },
      twin: null,
      settings: settingsFor(entry, entry.spec),
      server: serverFor(entry),
      expected: expectationFor(entry.id, entry.kind),
      requires: featuresFor(entry, id),
      ...(entry.ladder ? { ladder: entry.ladder } : {}),
      ...(entry.fullOnly ? { fullOnly: true } : {}),
    });
    if (entry.kind === 'control' && !byShape.has(shapeOf(entry.spec))) byShape.set(shapeOf(entry.spec), id);
  }
  // Twins after the controls, so a control with the same hierarchy serves as the twin.
  return scenarios.flatMap((s) => {
    if (s.kind !== 'defect') return [s];
    const entry = catalogue.find((e) => e.id === s.certs.entry) as CatalogueEntry;
    const shape = shapeOf(entry.twin);
    const known = byShape.get(shape);
    if (known) return [{ ...s, twin: known }];
    const twinId = `${entry.id}~twin`;
    byShape.set(shape, twinId);
    const twin: Scenario = {
      id: twinId,
      title: `twin of ${entry.id}: the same hierarchy without the defect`,
      phase: 'catalogue',
      kind: 'control',
      certs: { entry: entry.id, variant: 'twin' },
      twin: null,
      settings: settingsFor(entry, entry.twin),
      server: serverFor(entry),
      expected: expectationFor(twinId, 'control'),
      requires: entry.family === 'client' ? ['client-certificate'] : [],
    };
    return [twin, { ...s, twin: twinId }];
  });
}

const tlsOnly = (
  id: string,
  title: string,
  server: ServerBehaviour,
  expected: Readonly<Record<ProfileName, ProfileExpectation>>,
  /** A hierarchy other than the sanity case's: its catalogue control, which is then the twin. */
  more: Pick<Scenario, 'ladder' | 'fullOnly'> & {
    readonly on?: string;
    readonly kind?: Scenario['kind'];
    /** The passing twin when it is not the hierarchy's own control (the same server, unchanged). */
    readonly twin?: string;
  } = {},
): Scenario => ({
  id,
  title,
  phase: 'catalogue',
  kind: more.kind ?? 'control',
  certs: more.on ? { entry: more.on, variant: 'spec' } : { entry: 'anchors::wrong-ca', variant: 'twin' },
  twin: more.twin ?? more.on ?? SANITY,
  settings: DEFAULT_SETTINGS,
  server,
  expected,
  requires: [],
  ...(more.ladder ? { ladder: more.ladder } : {}),
  ...(more.fullOnly ? { fullOnly: true } : {}),
});

const unanimousBecause = (
  result: ProfileExpectation['result'],
  because: string,
): Record<ProfileName, ProfileExpectation> =>
  Object.fromEntries(PROFILE_NAMES.map((p) => [p, { result, because }])) as Record<
    ProfileName,
    ProfileExpectation
  >;

const UPLOAD_TITLES: Readonly<Record<AnchorFileFormat, string>> = {
  'pem-crlf': 'PEM with CRLF line ends',
  'pem-bom': 'PEM behind a UTF-8 byte-order mark',
  'pem-trailing-bytes': 'PEM followed by a line of text that is not PEM',
  der: 'one DER certificate (binary, no PEM armour)',
};

/** The valid chain, its root uploaded as a file written another way: what the device stores and verifies with. */
const UPLOAD_SCENARIOS: readonly Scenario[] = ANCHOR_FILE_FORMATS.map((format) => ({
  ...tlsOnly(
    `uploads::${format}`,
    `the issuing root uploaded as ${UPLOAD_TITLES[format]}`,
    {},
    unanimousBecause(
      'accept',
      format === 'der'
        ? 'RFC 5280 §4.1: a certificate is DER; mbedTLS x509_crt_parse reads DER as well as PEM'
        : 'RFC 7468 §2/§3: either line end, and text outside the boundaries is ignored',
    ),
    format === 'pem-crlf' ? {} : { fullOnly: true },
  ),
  anchorFile: format,
}));

/** Fragmented handshakes: mbedTLS before 3.6.3 reassembles none (Mbed-TLS#1840). */
const fragmented = (bytes: 512 | 1024 | 4096, on?: string): Scenario =>
  tlsOnly(
    `tls::handshake-fragmented-${bytes}`,
    `the broker sends its handshake in records of at most ${bytes} bytes${on ? ` (the ${on} chain, so the Certificate message is cut)` : ''}`,
    { maxTlsVersion: 'TLSv1.2', handshakeFragment: bytes },
    {
      rfc5280: { result: 'accept', because: 'RFC 5246 §6.2.1: handshake messages may span records' },
      webpki: { result: 'accept', because: 'browsers reassemble fragmented handshake messages' },
      'mbedtls-2.28': {
        result: 'reject',
        because: 'mbedTLS before 3.6.3 cannot reassemble a fragmented handshake message (-0x7080)',
      },
    },
    {
      ladder: { ladder: 'handshake-fragment', rung: bytes, label: `${bytes}-byte records` },
      ...(on ? { on, fullOnly: true } : {}),
    },
  );

/** The valid chain served differently: what the device's TLS stack can speak, not what it trusts. */
const SERVER_SCENARIOS: readonly Scenario[] = [
  tlsOnly(
    'tls::server-tls12-only',
    'the broker offers TLS 1.2 only',
    { minTlsVersion: 'TLSv1.2', maxTlsVersion: 'TLSv1.2' },
    unanimous('accept'),
  ),
  tlsOnly(
    'tls::server-tls13-only',
    'the broker offers TLS 1.3 only',
    { minTlsVersion: 'TLSv1.3', maxTlsVersion: 'TLSv1.3' },
    {
      rfc5280: { result: 'accept', because: 'TLS 1.3 (RFC 8446) is the current version' },
      webpki: { result: 'accept', because: 'browsers speak TLS 1.3' },
      'mbedtls-2.28': { result: 'reject', because: 'mbedTLS 2.28 speaks TLS 1.2 at most' },
    },
  ),
  ...(['TLSv1', 'TLSv1.1'] as const).map((version) =>
    tlsOnly(
      `tls::server-${version === 'TLSv1' ? 'tls10' : 'tls11'}-only`,
      `the broker answers ${version === 'TLSv1' ? 'TLS 1.0' : 'TLS 1.1'} only, below the version the device offers at best (a downgrade)`,
      { minTlsVersion: version, maxTlsVersion: version },
      {
        rfc5280: { result: 'reject', because: 'RFC 8996: TLS 1.0 and 1.1 must not be negotiated' },
        webpki: { result: 'reject', because: 'browsers removed TLS 1.0 and 1.1 (RFC 8996)' },
        'mbedtls-2.28': {
          result: 'accept',
          because:
            'mbedTLS 2.28 still builds TLS 1.0/1.1 by default (MBEDTLS_SSL_PROTO_TLS1, _TLS1_1; removed in 3.0) and speaks them when the application allows (Quectel sslversion 4)',
        },
      },
      { kind: 'defect' },
    ),
  ),
  // A ServerHello no TLS library sends, changed on its way (brokers/server-hello-tamper.ts).
  tlsOnly(
    'tls::server-hello-unoffered-suite',
    'the ServerHello names a cipher suite the device did not offer (changed on its way to the device)',
    { maxTlsVersion: 'TLSv1.2', serverHelloTamper: 'unoffered-suite' },
    unanimousBecause(
      'reject',
      "RFC 5246 §7.4.1.3: the server picks one of the client's suites; a client must abort on any other (illegal_parameter)",
    ),
    { kind: 'defect', twin: 'tls::server-tls12-only' },
  ),
  tlsOnly(
    'tls::server-hello-unrequested-alpn',
    'the ServerHello carries an ALPN protocol the device did not offer (changed on its way to the device)',
    { maxTlsVersion: 'TLSv1.2', serverHelloTamper: 'unrequested-alpn' },
    unanimousBecause(
      'reject',
      'RFC 5246 §7.4.1.4 and RFC 7301 §3.2: a server sends no extension the client did not offer, and selects only a protocol it offered; the client aborts',
    ),
    { kind: 'defect', twin: 'tls::server-tls12-only' },
  ),
  tlsOnly(
    'tls::server-static-rsa-tls12',
    'the broker answers TLS 1.2 with a static-RSA suite (AES128-GCM-SHA256) and an RSA-2048 leaf',
    { maxTlsVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' },
    unanimous('accept'),
    { on: 'keys::leaf-rsa2048' },
  ),
  tlsOnly(
    'tls::server-hello-downgrade-sentinel',
    'a TLS 1.2 ServerHello whose random ends in the TLS 1.3 downgrade sentinel (static RSA, so no signature covers the random: only the sentinel check can stop the device)',
    { maxTlsVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256', serverHelloTamper: 'downgrade-sentinel' },
    unanimousBecause(
      'reject',
      'RFC 8446 §4.1.3: a client that offered TLS 1.3 and gets a TLS 1.2 ServerHello whose random ends in DOWNGRD\\x01 must abort (illegal_parameter)',
    ),
    { kind: 'defect', on: 'keys::leaf-rsa2048', twin: 'tls::server-static-rsa-tls12' },
  ),
  fragmented(512),
  fragmented(1024, 'sizes::served-chain-2k'),
  fragmented(4096, 'sizes::served-chain-8k'),
];

/**
 * The built-in-store question, answered without leaving loopback: a chain under the lab's stand-in
 * for a public root, with an unrelated root uploaded (on hardware, `--public-probe` asks it of real
 * public brokers). The twin uploads the lab-public root itself.
 */
const STORE_SCENARIOS: readonly Scenario[] = [
  {
    id: 'anchors::public-root-right-ca',
    title: 'a chain under the lab-public root, that root uploaded',
    phase: 'catalogue',
    kind: 'control',
    certs: { entry: 'anchors::wrong-ca', variant: 'twin', issuer: 'lab-public-root' },
    twin: null,
    settings: DEFAULT_SETTINGS,
    server: {},
    expected: unanimous('accept'),
    requires: [],
  },
  {
    id: 'anchors::public-root-wrong-ca',
    title: 'a chain under the lab-public root, an unrelated root uploaded (built-in store?)',
    phase: 'catalogue',
    kind: 'defect',
    certs: { entry: 'anchors::wrong-ca', variant: 'spec', issuer: 'lab-public-root' },
    twin: 'anchors::public-root-right-ca',
    settings: DEFAULT_SETTINGS,
    server: {},
    expected: {
      rfc5280: { result: 'reject', because: 'the trust anchors are the ones the application configured' },
      webpki: {
        result: 'accept',
        because: 'a browser trusts its public root store whatever else was configured',
      },
      'mbedtls-2.28': {
        result: 'reject',
        because: 'mbedtls_ssl_conf_ca_chain is the only source of trust anchors',
      },
    },
    requires: ['chain-verification'],
  },
];

export function buildScenarios(catalogue: readonly CatalogueEntry[] = CATALOGUE): Scenario[] {
  const all = [
    ...catalogueScenarios(catalogue),
    ...STORE_SCENARIOS,
    ...SERVER_SCENARIOS,
    ...UPLOAD_SCENARIOS,
  ];
  const phaseRank: Record<Phase, number> = { sanity: 0, probe: 1, catalogue: 2 };
  const probeRank = (s: Scenario) => Object.keys(PROBES).indexOf(s.id);
  return all
    .map((s, i) => ({ s, i }))
    .sort(
      (a, b) => phaseRank[a.s.phase] - phaseRank[b.s.phase] || probeRank(a.s) - probeRank(b.s) || a.i - b.i,
    )
    .map(({ s }) => s);
}

/** Every scenario in execution order: the sanity case, the probes, then the catalogue. */
export const SCENARIOS: readonly Scenario[] = buildScenarios();

/** The two foundation scenarios, for tests that need a real case and not the whole matrix. */
export const FOUNDATION_SCENARIOS: readonly Scenario[] = SCENARIOS.filter(
  (s) => s.id === SANITY || s.id === 'anchors::wrong-ca',
);

export function scenarioById(id: string): Scenario {
  const s = SCENARIOS.find((x) => x.id === id);
  if (!s) throw new Error(`no scenario ${id}`);
  return s;
}
