import { describe, expect, it } from 'vitest';
import { PUBLIC_BROKERS, publicProbeRefused } from './public-probe.ts';

describe('the public-broker probe', () => {
  it('never runs under a test runner, nor on the virtual modem', () => {
    expect(publicProbeRefused('/dev/ttyUSB2', { VITEST: 'true' })).toMatch(/test runner/);
    expect(publicProbeRefused('/dev/ttyUSB2', { NODE_ENV: 'test' })).toMatch(/test runner/);
    expect(publicProbeRefused(undefined, {})).toMatch(/real modem/);
    expect(publicProbeRefused('/dev/ttyUSB2', {})).toBeNull();
  });

  it('lists only public TLS brokers (this test dials none of them)', () => {
    for (const b of PUBLIC_BROKERS) expect(b.host).toMatch(/\.(com|io|org)$/);
  });
});
