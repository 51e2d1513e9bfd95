import { PROFILE_NAMES, type ProfileName } from './profiles.ts';
import {
  DEFAULT_SETTINGS,
  type DeviceSettings,
  type MatrixCase,
  type ProfileExpectation,
  type Scenario,
} from './scenario-model.ts';
import { SCENARIOS } from './scenarios.ts';

type Variation = Partial<DeviceSettings>;

/** `scenario` under its own settings, `scenario[key=value,…]` where settings were varied. */
export function caseIdOf(scenario: Scenario, settings: DeviceSettings): string {
  const changed = (Object.keys(settings) as (keyof DeviceSettings)[])
    .filter((k) => settings[k] !== scenario.settings[k])
    .map((k) => `${k}=${settings[k]}`);
  return changed.length === 0 ? scenario.id : `${scenario.id}[${changed.join(',')}]`;
}

/**
 * The expectation under the case's settings. Only documented knobs change it: seclevel 0 means no
 * server authentication and ignorelocaltime 1 means no validity check (docs/002 §2.2.1). The
 * undocumented ignore* knobs do not: a device that accepts under them is lenient, and the trust
 * model reports whether the knob is what made the difference.
 */
export function expectationUnder(
  scenario: Scenario,
  settings: DeviceSettings,
): Readonly<Record<ProfileName, ProfileExpectation>> {
  const override = (because: string) =>
    Object.fromEntries(PROFILE_NAMES.map((p) => [p, { result: 'accept', because }])) as Record<
      ProfileName,
      ProfileExpectation
    >;
  if (settings.seclevel === 0)
    return override('seclevel 0: the device was told not to authenticate the server');
  if (settings.ignorelocaltime === 1 && scenario.id.startsWith('validity::')) {
    return override('ignorelocaltime 1: the device was told not to check validity');
  }
  const mbed = scenario.expected['mbedtls-2.28'];
  if (
    settings.dial === 'ip' &&
    scenario.settings.dial === 'hostname' &&
    settings.sni === 1 &&
    mbed.result === 'accept'
  ) {
    return {
      ...scenario.expected,
      'mbedtls-2.28': {
        result: 'reject',
        because:
          'dialling an IP literal with SNI on sets the literal as the hostname, and mbedTLS 2.28 matches no iPAddress SAN',
      },
    };
  }
  if (settings.sni === 0 && scenario.id.startsWith('names::') && scenario.kind === 'defect') {
    return {
      ...scenario.expected,
      'mbedtls-2.28': {
        result: 'accept',
        because: `stock mbedTLS 2.28 before 2.28.10 checks no name when no hostname is set, and Quectel sets it with SNI (with a hostname: ${mbed.result})`,
      },
    };
  }
  return scenario.expected;
}

function matrixCase(scenario: Scenario, variation: Variation): MatrixCase {
  const settings = { ...scenario.settings, ...variation };
  return {
    id: caseIdOf(scenario, settings),
    scenario,
    settings,
    expected: expectationUnder(scenario, settings),
  };
}

/** A defect's passing twin under the defect's own settings: what the device is held to beside it. */
export function twinCaseOf(c: MatrixCase, scenarios: readonly Scenario[] = SCENARIOS): MatrixCase | null {
  const twin = scenarios.find((s) => s.id === c.scenario.twin);
  if (!twin) return null;
  return {
    id: caseIdOf(twin, c.settings),
    scenario: twin,
    settings: c.settings,
    expected: expectationUnder(twin, c.settings),
  };
}

const family = (s: Scenario) => s.id.slice(0, s.id.indexOf('::'));
const isDefect = (s: Scenario) => s.kind === 'defect';

/**
 * Settings variations of the default matrix: one knob at a time, on the scenarios whose outcome the
 * knob can change, so each trust-model question about a knob has its pair (with and without).
 */
const DEFAULT_VARIATIONS: readonly { readonly when: (s: Scenario) => boolean; readonly vary: Variation }[] = [
  // Does ignorelocaltime switch validity checks off?
  { when: (s) => family(s) === 'validity', vary: { ignorelocaltime: 1 } },
  // Is the hostname checked without SNI, and is SNI sent when the knob is off?
  { when: (s) => s.id === 'names::san-mismatch' || s.id === 'anchors::right-ca', vary: { sni: 0 } },
  // Does ignoreinvalidcertsign lift hash/key policy, or even forged signatures?
  {
    when: (s) => family(s) === 'signatures' && isDefect(s),
    vary: { ignoreinvalidcertsign: 1 },
  },
  // Does ignoremulticertchainverify stop checks above the leaf?
  {
    when: (s) =>
      [
        'anchors::wrong-ca',
        'chains::intermediate-not-sent',
        'chains::intermediate-ca-false',
        'validity::intermediate-expired',
      ].includes(s.id),
    vary: { ignoremulticertchainverify: 1 },
  },
  // Does seclevel 0 switch verification off?
  { when: (s) => s.id === 'anchors::wrong-ca' || s.id === 'names::san-mismatch', vary: { seclevel: 0 } },
  // Versions and suites configured versus offered (read from the ClientHello).
  { when: (s) => s.id === 'anchors::right-ca', vary: { sslversion: 3 } },
  { when: (s) => s.id === 'anchors::right-ca', vary: { sslversion: 1 } },
  { when: (s) => s.id === 'anchors::right-ca', vary: { ciphersuite: '0XC023' } },
  // Dial the IP literal with a valid chain carrying an IP SAN.
  { when: (s) => s.id === 'anchors::right-ca', vary: { dial: 'ip' } },
];

/** The default matrix: every scenario under its own settings, then the knob pairs. */
export function defaultMatrix(scenarios: readonly Scenario[] = SCENARIOS): MatrixCase[] {
  const inDefault = scenarios.filter((s) => !s.fullOnly);
  const cases = inDefault.map((s) => matrixCase(s, {}));
  for (const v of DEFAULT_VARIATIONS) {
    for (const s of inDefault) if (v.when(s)) cases.push(matrixCase(s, v.vary));
  }
  return dedupe(cases);
}

/**
 * The full matrix: every scenario under every combination of SNI, clock checking and seclevel 0/1,
 * each ignore* knob on its own, and every TLS version; twice the catalogue of the default and more.
 */
export function fullMatrix(scenarios: readonly Scenario[] = SCENARIOS): MatrixCase[] {
  const cases = [...defaultMatrix(scenarios), ...scenarios.map((s) => matrixCase(s, {}))];
  for (const s of scenarios) {
    if (s.settings.seclevel === 2) continue;
    for (const sni of [0, 1] as const)
      for (const ignorelocaltime of [0, 1] as const) cases.push(matrixCase(s, { sni, ignorelocaltime }));
    cases.push(matrixCase(s, { seclevel: 0 }));
    cases.push(matrixCase(s, { ignoreinvalidcertsign: 1 }));
    cases.push(matrixCase(s, { ignoremulticertchainverify: 1 }));
    for (const sslversion of [1, 2, 3] as const) cases.push(matrixCase(s, { sslversion }));
    if (s.settings.dial === 'hostname' && !s.id.startsWith('names::'))
      cases.push(matrixCase(s, { dial: 'ip' }));
  }
  return dedupe(cases);
}

function dedupe(cases: readonly MatrixCase[]): MatrixCase[] {
  const seen = new Set<string>();
  return cases.filter((c) => !seen.has(c.id) && seen.add(c.id));
}

export { DEFAULT_SETTINGS };
