import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOOPBACK_LAB } from '../contracts/case.ts';
import { openDevice } from '../harness/runner/device.ts';
import type { CaseRun } from '../harness/runner/run-case.ts';
import type { TlsRequestSeen } from '../harness/virtual-modem/session.ts';
import { executeCase } from './execute.ts';
import { defaultMatrix } from './matrix.ts';
import { labPublicRootPem, virtualLabNetwork } from './plan-case.ts';

/**
 * The TLS client a case dialled with, in terms that hold across runs: certificates differ between
 * runs (ECDSA signatures are randomised), so the case's own anchors, client certificate and the
 * lab's public root stand as names; the clock is whether it showed the host's time, or how far off.
 */
function comparable(seen: TlsRequestSeen, run: CaseRun, publicRoot: string, at: number): string {
  const { anchorsPem, deviceTime, clientCert, ...rest } = seen.request;
  const own = run.hierarchy.anchorsPem;
  // A store may keep a PEM without its last newline or with CRLF (nRF91 %CMNG): compared as text.
  const text = (pem: string) => pem.replaceAll('\r', '').trim();
  const anchors =
    anchorsPem === null
      ? 'none'
      : [own ? text(anchorsPem).replace(text(own), '<the case’s anchors>') : text(anchorsPem)]
          .map((a) => a.replace(text(publicRoot), '<lab public root>'))
          .map((a) => (a.includes('BEGIN') ? `<other anchors: ${a.length} bytes>` : a))[0];
  // A case that validates sets the device clock to the host's time; one that does not leaves it
  // (from scratch: the original put back after each case). Validity windows are days wide: the
  // clock is compared to the minute.
  const minutes = deviceTime === null ? null : Math.round((deviceTime.getTime() - at) / 60_000);
  const clock = minutes === null ? 'host clock' : minutes === 0 ? 'host time' : `off by ${minutes} min`;
  const client =
    clientCert === undefined
      ? 'none'
      : clientCert.certPem === run.hierarchy.client?.certPem
        ? '<the case’s client certificate>'
        : '<another client certificate>';
  return JSON.stringify({ host: seen.host, anchors, clock, client, ...rest });
}

/** Runs the default matrix on a fresh virtual module; per case, the TLS clients it dialled with and the outcome. */
async function runMatrix(family: string, delta: boolean): Promise<Map<string, string[]>> {
  const publicRoot = await labPublicRootPem();
  const device = await openDevice({
    driver: family,
    network: virtualLabNetwork(LOOPBACK_LAB),
    builtinAnchorsPem: publicRoot,
    delta,
  });
  const outDir = mkdtempSync(join(tmpdir(), `trustlab-delta-${family}-${delta}-`));
  const seen = new Map<string, string[]>();
  try {
    for (const c of defaultMatrix()) {
      const mark = device.virtualModem?.tlsRequests().length ?? 0;
      const { record, run } = await executeCase(device, c, outDir, LOOPBACK_LAB, { attempts: 1 });
      const requests = device.virtualModem?.tlsRequests().slice(mark) ?? [];
      seen.set(c.id, [
        `outcome ${record.outcome}`,
        ...(run ? requests.map((r) => comparable(r, run, publicRoot, Date.parse(run.startedAt))) : []),
      ]);
    }
    expect(await device.restore()).toEqual([]);
  } finally {
    await device.close();
  }
  return seen;
}

describe.each(['quectel', 'simcom-a76xx', 'nrf91-slm'])(
  'delta configuration on the virtual %s module',
  (family) => {
    it('gives every case of the default matrix the same TLS client as configuring it from scratch', async () => {
      const scratch = await runMatrix(family, false);
      const delta = await runMatrix(family, true);
      expect([...delta.keys()]).toEqual([...scratch.keys()]);
      let dialled = 0;
      for (const [id, fromScratch] of scratch) {
        expect(delta.get(id), id).toEqual(fromScratch);
        dialled += fromScratch.length - 1;
      }
      // Most cases that ran dial; a comparison of cases that never reached the network would prove nothing.
      const ran = [...scratch.values()].filter(([outcome]) => outcome !== 'outcome skipped').length;
      expect(dialled).toBeGreaterThan(ran * 0.9);
    }, 240_000);
  },
);
