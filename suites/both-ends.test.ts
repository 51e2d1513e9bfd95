import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOOPBACK_LAB } from '../contracts/case.ts';
import { familyNamed } from '../harness/families.ts';
import { type DriverFamily, openDevice } from '../harness/runner/device.ts';
import type { Fault } from '../harness/virtual-modem/faults.ts';
import { executeCase } from './execute.ts';
import { defaultMatrix } from './matrix.ts';
import { virtualLabNetwork } from './plan-case.ts';

/** The command that opens the MQTT connection, per dialect: the silent reset lands just before it. */

async function wrongCaCase(family: DriverFamily, faults: readonly Fault[]) {
  const device = await openDevice({
    driver: family,
    network: virtualLabNetwork(LOOPBACK_LAB),
    virtualModem: { faults },
  });
  const c = defaultMatrix().find((m) => m.id === 'anchors::wrong-ca');
  if (!c) throw new Error('anchors::wrong-ca is not in the default matrix');
  try {
    const outDir = mkdtempSync(join(tmpdir(), `trustlab-both-ends-${family}-`));
    return (await executeCase(device, c, outDir, LOOPBACK_LAB, { attempts: 1 })).record;
  } finally {
    await device.close();
  }
}

describe.each(['quectel', 'nrf91-slm'] as const)('no verdict from one end only (%s)', (family) => {
  it('after a silent reset the connection is plain TCP: whatever the device reports, no verdict', async () => {
    const record = await wrongCaCase(family, [
      { kind: 'silent-reset', on: { command: familyNamed(family).virtual.hostile.open } },
    ]);
    // The server saw bytes that were not TLS; the case must not be scored from the device alone.
    expect(record.server.handshake).toBe('not-tls');
    expect(record.outcome).toBe('inconclusive');
    for (const verdict of Object.values(record.verdicts)) expect(verdict).toBe('inconclusive');
    if (record.device.reached.tlsOpened) {
      // Quectel: +QMTOPEN: 1,0 comes at TCP level, so the device claims success (once "accepted → lenient").
      expect(record.reason).toMatch(
        /contradiction: the device reported .* but the server saw no completed TLS handshake/,
      );
    } else {
      // nRF91 SLM: success is the CONNACK, which a TLS-only server never sends over plain TCP.
      expect(record.reason).toMatch(/failed before TLS: the endpoint saw no ClientHello/);
    }
  }, 60_000);

  it('its twin without the fault is refused, and judged, from both ends', async () => {
    const record = await wrongCaCase(family, []);
    expect(record.outcome).toBe('rejected');
    expect(record.server.connections).toBe(1);
    expect(record.verdicts.rfc5280).toBe('conformant');
  }, 60_000);
});
