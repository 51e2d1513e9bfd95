import { describe, expect, it } from 'vitest';
import { accepts, rejects } from '../../certs/catalogue/define.ts';
import type { ControlResult } from './control.ts';
import { judgeControls, opensslCode } from './judge-controls.ts';

const r = (client: ControlResult['client'], status: ControlResult['status'], reason: string | null = null) =>
  ({ client, status, reason, detail: '' }) satisfies ControlResult;

const expired = rejects('CERT_HAS_EXPIRED', 0).openssl;

describe('judgeControls', () => {
  it('reads the X509_V_ERR code from the s_client reason', () => {
    expect(opensslCode('X509_V_ERR 10: certificate has expired')).toBe(10);
    expect(opensslCode('exit 1')).toBeNull();
  });

  it('confirms a defect OpenSSL refuses for the catalogue reason', () => {
    const j = judgeControls(
      [
        r('node', 'rejected', 'CERT_HAS_EXPIRED'),
        r('openssl', 'rejected', 'X509_V_ERR 10: certificate has expired'),
      ],
      'defect',
      expired,
    );
    expect(j.ok).toBe(true);
  });

  it('fails a defect refused for another reason: it would be credited to the wrong cause', () => {
    const j = judgeControls(
      [r('openssl', 'rejected', 'X509_V_ERR 20: unable to get local issuer')],
      'defect',
      expired,
    );
    expect(j).toMatchObject({ ok: false });
    expect(j.why).toContain('another reason');
  });

  it('accepts the measured s_client name of a missing keyCertSign (79 for 32)', () => {
    const ku = rejects('KEYUSAGE_NO_CERTSIGN', 2).openssl;
    expect(
      judgeControls([r('openssl', 'rejected', 'X509_V_ERR 79: invalid CA certificate')], 'defect', ku).ok,
    ).toBe(true);
    expect(judgeControls([r('openssl', 'rejected', 'X509_V_ERR 10: expired')], 'defect', ku).ok).toBe(false);
  });

  it('fails a defect that OpenSSL accepted, and passes one OpenSSL accepts by design', () => {
    expect(judgeControls([r('openssl', 'accepted')], 'defect', expired).ok).toBe(false);
    expect(
      judgeControls([r('openssl', 'accepted')], 'defect', { ...accepts(), lenientBecause: 'CN fallback' }).ok,
    ).toBe(true);
  });

  it('fails a twin any reference client refused, and a case no client could run', () => {
    expect(
      judgeControls([r('node', 'accepted'), r('gnutls', 'rejected', 'issuer unknown')], 'must-accept', null)
        .ok,
    ).toBe(false);
    expect(judgeControls([r('node', 'accepted'), r('gnutls', 'unavailable')], 'must-accept', null).ok).toBe(
      true,
    );
    expect(judgeControls([r('gnutls', 'unavailable')], 'must-accept', null).ok).toBe(false);
    expect(judgeControls([r('node', 'error')], 'must-accept', null).ok).toBe(false);
  });
});
