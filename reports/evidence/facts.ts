import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseRecord } from '../record.ts';
import type { RunManifest } from '../run-manifest.ts';
import { describeServerEnd } from '../server-end.ts';
import type { TrustModelAnswer } from './trust-model.ts';

/** Everything one evidence document shows, gathered once for both the Markdown and the HTML form. */
export interface EvidenceInput {
  readonly records: readonly CaseRecord[];
  readonly manifest: RunManifest | null;
  readonly trustModel: readonly TrustModelAnswer[] | null;
  /** Reads a file of the run folder (transcript, PEM bundle); null when absent. */
  readonly readRunFile: (relative: string | null | undefined) => string | null;
}

export function runFileReader(outDir: string): EvidenceInput['readRunFile'] {
  return (relative) => {
    if (!relative) return null;
    const path = join(outDir, relative);
    return existsSync(path) ? readFileSync(path, 'utf8') : null;
  };
}

const hex = (n: number) => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;

/** The device's identity line, from run.json when present, else from the first record. */
export function deviceTitle(input: EvidenceInput): {
  model: string;
  firmware: string;
  label: string;
  imei: string;
} {
  const id = input.manifest?.identity;
  const first = input.records[0]?.device;
  return {
    model: id?.model ?? first?.model ?? 'unknown model',
    firmware: id?.firmware ?? first?.firmware ?? 'unknown firmware',
    label: input.manifest?.device ?? first?.label ?? 'unknown device',
    imei: id?.imei ?? 'not reported',
  };
}

/** Run facts as label/value pairs, for the document's header. */
export function runFacts(input: EvidenceInput): [string, string][] {
  const m = input.manifest;
  const d = deviceTitle(input);
  const facts: [string, string][] = [
    ['Device', d.label],
    ['Model', `${m?.identity?.manufacturer ?? ''} ${d.model}`.trim()],
    ['Firmware', d.firmware],
    ['IMEI', d.imei],
  ];
  for (const found of m?.tls?.asFound ?? [])
    facts.push([`As found: ${found.name}`, `${found.meaning} (${found.raw}, before any change)`]);
  if (m?.tls?.basis.length) facts.push(['TLS capabilities from', m.tls.basis.join('; ')]);
  if (m?.harness)
    facts.push([
      'Harness',
      `${m.harness.version} @ ${m.harness.commit?.slice(0, 12) ?? 'no git'}${m.harness.dirty ? ' (uncommitted changes)' : ''}`,
    ]);
  if (m?.catalogue)
    facts.push(['Catalogue', `revision ${m.catalogue.revision}, ${m.catalogue.cases} scenarios`]);
  if (m?.broker)
    facts.push(['Broker', `${m.broker.kind}, listening on ${m.broker.listenHost}, Node ${m.broker.node}`]);
  if (m?.lab) facts.push(['Device dials', m.lab.dialHost]);
  if (m?.startedAt)
    facts.push(['Run', `${m.startedAt} → ${m.endedAt ?? 'not finished'} (${m.status ?? 'unknown'})`]);
  if (m?.sessions && m.sessions.length > 1) facts.push(['Sessions', `${m.sessions.length} (resumed)`]);
  if (m?.mergedFrom) facts.push(['Merged from', m.mergedFrom.map((s) => s.shard ?? s.dir).join(', ')]);
  return facts;
}

/** What the server saw, as label/value pairs. */
export function serverFacts(r: CaseRecord): [string, string][] {
  const s = r.server;
  const facts: [string, string][] = [
    ['Connections', String(s.connections)],
    ['Handshake', describeServerEnd(s)],
    ['SNI', s.handshake === 'no-connection' ? '—' : (s.sni ?? 'none sent')],
    ['Client alert', s.clientAlert ? `${s.clientAlert.number} ${s.clientAlert.name}` : 'none'],
  ];
  if (s.negotiated) facts.push(['Negotiated', `${s.negotiated.version} ${s.negotiated.cipher}`]);
  if (s.clientCertificate) {
    const c = s.clientCertificate;
    const verdict =
      c.verified === null
        ? 'not verified by this engine'
        : c.verified
          ? 'verified'
          : `refused: ${c.verifyError}`;
    facts.push(['Client certificate', `${c.subject} (issuer ${c.issuer}); ${verdict}`]);
  }
  if (r.virtualTls) facts.push(['TLS engine (virtual modem)', r.virtualTls.engineNote]);
  const hello = s.clientHello;
  if (hello) {
    facts.push(
      ['ClientHello versions', `legacy ${hello.legacyVersion}; offered ${hello.offeredVersions.join(', ')}`],
      ['Cipher suites offered', `${hello.cipherSuites.length}: ${hello.cipherSuites.map(hex).join(' ')}`],
      ['Signature algorithms', hello.signatureAlgorithms.map(hex).join(' ') || 'none'],
      ['Extensions', hello.extensions.join(', ') || 'none'],
      [
        'Max fragment length',
        hello.maxFragmentLength === null ? 'not offered' : String(hello.maxFragmentLength),
      ],
    );
  }
  facts.push([
    'MQTT',
    s.mqttConnect
      ? `CONNECT ${s.mqttConnect.clientId} (level ${s.mqttConnect.protocolLevel}); ${s.publishes.length} PUBLISH`
      : 'no CONNECT',
  ]);
  facts.push(['Closed by', s.closedBy ?? 'unknown']);
  return facts;
}

/** A control's fields as text, whatever shape suites/ gives them. */
export function controlRows(r: CaseRecord): { columns: string[]; rows: string[][] } | null {
  if (!r.controls || r.controls.length === 0) return null;
  const columns = [...new Set(r.controls.flatMap((c) => Object.keys(c)))];
  const text = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  return { columns, rows: r.controls.map((c) => columns.map((k) => text(c[k]))) };
}
