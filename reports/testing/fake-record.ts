import type { CaseRecord, ServerSummary } from '../record.ts';

/** A server that saw a completed handshake and nothing else; tests override what they look at. */
export const QUIET_SERVER: ServerSummary = {
  connections: 1,
  sni: null,
  handshake: 'completed',
  clientAlert: null,
  negotiated: null,
  mqttConnect: null,
  publishes: [],
  closedBy: 'client',
  clientHello: null,
};

/**
 * A complete, valid results.jsonl record for tests of code that reads records (reports, diffs,
 * inference). Defaults describe an accepted case on the virtual EC200U; pass only what matters.
 */
export function fakeRecord(id: string, over: Partial<CaseRecord> = {}): CaseRecord {
  const outcome = over.outcome ?? 'accepted';
  return {
    case: id,
    title: id,
    params: {},
    outcome,
    reason: `reason of ${id}`,
    verdicts: { rfc5280: 'conformant' },
    codes: [],
    server: QUIET_SERVER,
    device: {
      label: 'virtual:strict',
      model: 'EC200U',
      firmware: 'FW-A',
      reached: { tlsOpened: outcome === 'accepted', mqttConnected: false, publishAcked: false },
      error: null,
      healthy: true,
    },
    certs: { anchors: [], served: [] },
    transcriptFile: null,
    startedAt: '',
    endedAt: '',
    ...over,
  };
}
