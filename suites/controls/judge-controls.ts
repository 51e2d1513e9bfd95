import { type OpensslExpectation, X509_V_ERR, type X509VErrName } from '../../certs/catalogue/index.ts';
import type { ControlResult } from './control.ts';

/** Whether the reference clients confirm that the case tests what it claims to test. */
export interface ControlJudgement {
  readonly ok: boolean;
  /** One sentence: what confirmed the case, or what went wrong. */
  readonly why: string;
}

/**
 * Where `openssl s_client` names the same defect with another code than `openssl verify` (measured
 * with OpenSSL 3.0): in a TLS handshake the SSL-server purpose check of a CA certificate runs first,
 * so a root whose KeyUsage lacks keyCertSign is reported as an invalid CA (79), not as 32.
 */
export const S_CLIENT_EQUIVALENTS: Readonly<Partial<Record<X509VErrName, readonly X509VErrName[]>>> = {
  KEYUSAGE_NO_CERTSIGN: ['INVALID_CA'],
};

const ran = (r: ControlResult) => r.status === 'accepted' || r.status === 'rejected';

/** `X509_V_ERR 20: unable to …` → 20. */
export function opensslCode(reason: string | null): number | null {
  const m = /^X509_V_ERR (\d+)\b/.exec(reason ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * The twin (or a control) must be accepted by every reference client that ran. A defect must be
 * refused by OpenSSL with the catalogue's X509_V_ERR (or accepted where the catalogue says OpenSSL
 * accepts it by design, the defect then being proven offline by its second verifier); the other
 * clients' verdicts are recorded beside it. A case whose controls disagree never yields a verdict.
 */
export function judgeControls(
  results: readonly ControlResult[],
  side: 'must-accept' | 'defect',
  expectation: OpensslExpectation | null,
): ControlJudgement {
  const usable = results.filter(ran);
  const errors = results.filter((r) => r.status === 'error');
  if (errors.length > 0) {
    return {
      ok: false,
      why: `reference client error: ${errors.map((e) => `${e.client} ${e.detail}`).join('; ')}`,
    };
  }
  if (usable.length === 0) return { ok: false, why: 'no reference client could run against the endpoint' };
  if (side === 'must-accept') {
    const refused = usable.filter((r) => r.status === 'rejected');
    if (refused.length > 0) {
      return {
        ok: false,
        why: `a chain that must pass was refused: ${refused.map((r) => `${r.client} (${r.reason})`).join('; ')}`,
      };
    }
    return { ok: true, why: `accepted by ${usable.map((r) => r.client).join(', ')}` };
  }
  const openssl = usable.find((r) => r.client === 'openssl');
  const others = usable
    .filter((r) => r.client !== 'openssl')
    .map((r) => `${r.client} ${r.status}${r.reason ? ` (${r.reason})` : ''}`)
    .join('; ');
  const also = others ? `; also ${others}` : '';
  if (!expectation) {
    const refused = usable.filter((r) => r.status === 'rejected');
    return refused.length === usable.length
      ? {
          ok: true,
          why: `refused by ${usable.map((r) => r.client).join(', ')} (no reference client completes this handshake: the server side is the defect)`,
        }
      : {
          ok: false,
          why: `a defect was accepted: ${usable
            .filter((r) => r.status === 'accepted')
            .map((r) => r.client)
            .join(', ')}`,
        };
  }
  if (!openssl) {
    const node = usable.find((r) => r.client === 'node');
    if (expectation.verdict.ok)
      return { ok: true, why: `openssl not run; OpenSSL accepts this by design${also}` };
    return node?.status === 'rejected'
      ? {
          ok: true,
          why: `refused by node (${node.reason}); reason not compared, openssl is not installed${also}`,
        }
      : { ok: false, why: `openssl not run and node did not refuse the defect${also}` };
  }
  if (expectation.verdict.ok) {
    return openssl.status === 'accepted'
      ? {
          ok: true,
          why: `OpenSSL accepts it by design (${expectation.lenientBecause ?? 'see the catalogue'})${also}`,
        }
      : { ok: false, why: `OpenSSL was expected to accept by design but refused: ${openssl.reason}${also}` };
  }
  const wanted = X509_V_ERR[expectation.verdict.error];
  const accepted = [expectation.verdict.error, ...(S_CLIENT_EQUIVALENTS[expectation.verdict.error] ?? [])];
  const got = opensslCode(openssl.reason);
  const gotName = accepted.find((name) => X509_V_ERR[name] === got);
  if (openssl.status !== 'rejected') {
    return {
      ok: false,
      why: `OpenSSL accepted the defect; expected X509_V_ERR_${expectation.verdict.error} (${wanted})${also}`,
    };
  }
  if (!gotName) {
    return {
      ok: false,
      why: `OpenSSL refused for another reason: ${openssl.reason}, expected X509_V_ERR_${expectation.verdict.error} (${wanted})${also}`,
    };
  }
  return {
    ok: true,
    why: `OpenSSL refused with X509_V_ERR_${expectation.verdict.error} (${wanted}) as the catalogue says${also}`,
  };
}
