import { isIP } from 'node:net';
import { buildCatalogue, CATALOGUE_HOST, type CatalogueEntry } from '../certs/catalogue/index.ts';
import { IP_LITERAL } from '../certs/catalogue/names.ts';
import { buildHierarchy } from '../certs/factory.ts';
import type { CertSpec, PkiSpec } from '../certs/pki-spec.ts';
import type { LabNetwork } from '../contracts/case.ts';
import type { TlsIntent } from '../harness/drivers/tls-intent.ts';
import type { CaseSpec } from '../harness/runner/run-case.ts';
import { expectationUnder } from './matrix.ts';
import type { DeviceSettings, MatrixCase, Scenario } from './scenario-model.ts';

/** Where a lab's device dials: an IP literal always, a DNS name (≥ 3 labels) when the lab has one. */
export interface LabNames {
  /** IP literal the device dials for `dial: 'ip'` cases. */
  readonly ip: string;
  /** DNS name the device resolves to the lab; null when the lab has none (hostname cases are skipped). */
  readonly name: string | null;
}

/** The names the lab offers: the virtual modem resolves the catalogue's names itself. */
export function labNames(lab: LabNetwork, virtual: boolean): LabNames {
  const given = lab.dialName ?? (isIP(lab.dialHost) ? null : lab.dialHost);
  return {
    ip: isIP(lab.dialHost) ? lab.dialHost : IP_LITERAL,
    name: given ?? (virtual ? CATALOGUE_HOST : null),
  };
}

/** Every name the default catalogue makes the device dial (a virtual network maps them to the lab). */
export const CATALOGUE_HOST_NAMES: readonly string[] = dialledNames(CATALOGUE_HOST);

/** The virtual modem's network for a lab: the catalogue's names (or the lab's own) resolve to the endpoint. */
export function virtualLabNetwork(lab: LabNetwork): { hosts: Record<string, string> } {
  const names = labNames(lab, true);
  const hosts = Object.fromEntries(dialledNames(names.name as string).map((n) => [n, lab.listenHost]));
  return { hosts: { localhost: '127.0.0.1', ...hosts } };
}

/** Every name a catalogue built for `host` makes the device dial (the apex and a child for wildcards). */
export function dialledNames(host: string): string[] {
  const parent = host.split('.').slice(1).join('.');
  return [host, parent, `a.${host}`];
}

const catalogues = new Map<string, CatalogueEntry[]>();
function catalogueFor(host: string): CatalogueEntry[] {
  let c = catalogues.get(host);
  if (!c) {
    c = buildCatalogue({ dialledHost: host });
    catalogues.set(host, c);
  }
  return c;
}

export function entryOf(scenario: Scenario, host = CATALOGUE_HOST): CatalogueEntry {
  const entry = catalogueFor(host).find((e) => e.id === scenario.certs.entry);
  if (!entry)
    throw new Error(`scenario ${scenario.id} names unknown catalogue entry ${scenario.certs.entry}`);
  return entry;
}

/** Moves a spec onto another dialled host: the host itself and every SAN or CN that named it. */
export function retarget(spec: PkiSpec, to: string): PkiSpec {
  const from = spec.dialledHost;
  if (from === to) return spec;
  const type = isIP(to) ? ('ip' as const) : ('dns' as const);
  const certs = spec.certs.map((c): CertSpec => {
    const sans = c.subjectAltNames?.map((n) => (n.value === from ? { type, value: to } : n));
    return {
      ...c,
      ...(c.commonName === from ? { commonName: to } : {}),
      ...(sans ? { subjectAltNames: sans } : {}),
    };
  });
  return { ...spec, dialledHost: to, certs };
}

/** The PKI a case uses, placed on the lab's names; null with the reason when the lab cannot dial it. */
export function pkiFor(
  scenario: Scenario,
  settings: DeviceSettings,
  names: LabNames,
  variant: 'spec' | 'twin' = scenario.certs.variant,
): { pki: PkiSpec } | { skip: string } {
  if (settings.dial === 'hostname' && names.name === null) {
    return { skip: NO_DIAL_NAME };
  }
  const entry = entryOf(scenario, settings.dial === 'hostname' ? (names.name as string) : CATALOGUE_HOST);
  let spec = variant === 'spec' ? entry.spec : entry.twin;
  if (scenario.certs.issuer === 'lab-public-root') spec = underLabPublicRoot(entry.twin, variant);
  if (settings.dial === 'ip') return { pki: retarget(spec, names.ip) };
  return { pki: spec };
}

/**
 * The sanity case on this lab: it gates every other case, so on a lab with no DNS name the device
 * resolves it dials the IP instead of being skipped (the hostname cases are skipped, the IP cases run).
 */
export function sanityOnLab(c: MatrixCase, names: LabNames): MatrixCase {
  if (c.settings.dial !== 'hostname' || names.name !== null) return c;
  const settings = { ...c.settings, dial: 'ip' as const };
  return { ...c, settings, expected: expectationUnder(c.scenario, settings) };
}

/** The reason a hostname case is skipped on a lab without a name (the summary counts them by it). */
export const NO_DIAL_NAME = 'the lab has no DNS name the device resolves (trustlab run --dial-name)';

/** The broker of a case: the scenario's, opened down to TLS 1.0 when the device is set to an old version. */
export function serverFor(c: MatrixCase): Scenario['server'] {
  const old = c.settings.sslversion === 1 || c.settings.sslversion === 2;
  return old && !c.scenario.server.minTlsVersion
    ? { ...c.scenario.server, minTlsVersion: 'TLSv1' }
    : c.scenario.server;
}

const VERSION_OF: Readonly<Record<DeviceSettings['sslversion'], TlsIntent['version']>> = {
  1: 'TLSv1',
  2: 'TLSv1.1',
  3: 'TLSv1.2',
  4: 'all',
};
const PEER_OF: Readonly<Record<DeviceSettings['seclevel'], TlsIntent['peerVerification']>> = {
  0: 'none',
  1: 'server',
  2: 'mutual',
};

/**
 * What a case's settings ask of the device's TLS client. The matrix names its axes after the knobs
 * the catalogue was written against (case ids and baselines key on them); this is where they stop
 * being anyone's dialect.
 */
export function intentFor(s: DeviceSettings): TlsIntent {
  const vendor: Record<string, string> = {};
  if (s.ignoreinvalidcertsign) vendor['quectel.ignoreinvalidcertsign'] = '1';
  if (s.ignoremulticertchainverify) vendor['quectel.ignoremulticertchainverify'] = '1';
  return {
    peerVerification: PEER_OF[s.seclevel],
    version: VERSION_OF[s.sslversion],
    sni: s.sni === 1,
    deviceClock: s.ignorelocaltime === 1 ? 'ignore' : 'validate',
    cipherSuites: s.ciphersuite.toUpperCase() === '0XFFFF' ? 'all' : [s.ciphersuite],
    vendor,
  };
}

/** Device-side form of a matrix case: its PKI, its TLS intent and the broker's behaviour. */
export function caseSpecFor(c: MatrixCase, pki: PkiSpec): CaseSpec {
  return {
    id: c.id,
    pki,
    intent:
      c.scenario.anchorFile === 'der'
        ? { ...intentFor(c.settings), anchorEncoding: 'der' }
        : intentFor(c.settings),
    server: serverFor(c),
    ...(c.scenario.anchorFile ? { anchorFile: c.scenario.anchorFile } : {}),
  };
}

/** Stable name of the lab's stand-in public hierarchy: its root's subject must not change. */
const LAB_PUBLIC_NAME = 'trustlab lab-public';

/**
 * The standard chain re-issued under the lab's "public" root (its own key slot and name); the twin
 * uploads that root, the spec an unrelated one, so only a built-in store can make the spec connect.
 */
export function underLabPublicRoot(twin: PkiSpec, variant: 'spec' | 'twin'): PkiSpec {
  return {
    ...twin,
    name: LAB_PUBLIC_NAME,
    certs: twin.certs.map((c) =>
      c.ref === 'root' ? { ...c, commonName: 'TrustLab Lab Public Root', keySlot: 'lab-public-root' } : c,
    ),
    anchors: [variant === 'spec' ? 'unrelated-root' : 'root'],
  };
}

/** PEM of the lab's "public" root, for the virtual modem's built-in store. */
export async function labPublicRootPem(): Promise<string> {
  const entry = buildCatalogue({ dialledHost: CATALOGUE_HOST }).find((e) => e.id === 'anchors::wrong-ca');
  if (!entry) throw new Error('the catalogue has no anchors::wrong-ca entry');
  const built = await buildHierarchy(underLabPublicRoot(entry.twin, 'twin'));
  return built.anchorsPem as string;
}
