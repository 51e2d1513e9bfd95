import { describe, expect, it } from 'vitest';
import { defaultMatrix } from './matrix.ts';
import { caseSpecFor, labNames, pkiFor, retarget } from './plan-case.ts';

const matrix = defaultMatrix();
const find = (id: string) => {
  const c = matrix.find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id}`);
  return c;
};

describe('placing a case on the lab', () => {
  it('skips hostname cases on a real lab without a DNS name, with the reason', () => {
    const c = find('anchors::right-ca');
    const names = labNames({ dialHost: '10.0.0.5', listenHost: '0.0.0.0' }, false);
    expect(pkiFor(c.scenario, c.settings, names)).toEqual({ skip: expect.stringContaining('--dial-name') });
    const ip = find('anchors::right-ca[dial=ip]');
    const placed = pkiFor(ip.scenario, ip.settings, names);
    expect('pki' in placed && placed.pki.dialledHost).toBe('10.0.0.5');
  });

  it('moves the dialled host and every SAN that named it', () => {
    const c = find('names::ip-literal-dns-san');
    const placed = pkiFor(c.scenario, c.settings, { ip: '127.0.0.1', name: null });
    if (!('pki' in placed)) throw new Error('not placed');
    const moved = retarget(placed.pki, '10.1.2.3');
    const leaf = moved.certs.find((x) => x.ref === 'leaf');
    expect(moved.dialledHost).toBe('10.1.2.3');
    expect(leaf?.subjectAltNames).toEqual([{ type: 'ip', value: '10.1.2.3' }]);
  });

  it('turns settings into a TLS intent with named vendor switches and the clock', () => {
    const c = find('signatures::sha1-leaf[ignoreinvalidcertsign=1]');
    const placed = pkiFor(c.scenario, c.settings, { ip: '127.0.0.1', name: 'broker.trustlab.test' });
    if (!('pki' in placed)) throw new Error('not placed');
    const spec = caseSpecFor(c, placed.pki);
    expect(spec.intent).toEqual({
      peerVerification: 'server',
      version: 'all',
      sni: true,
      deviceClock: 'validate',
      cipherSuites: 'all',
      vendor: { 'quectel.ignoreinvalidcertsign': '1' },
    });
    expect(
      caseSpecFor(find('validity::leaf-expired[ignorelocaltime=1]'), placed.pki).intent.deviceClock,
    ).toBe('ignore');
    const one = caseSpecFor(find('anchors::right-ca[ciphersuite=0XC023]'), placed.pki).intent;
    expect(one.cipherSuites).toEqual(['0XC023']);
    expect(caseSpecFor(find('anchors::right-ca[sslversion=1]'), placed.pki).intent.version).toBe('TLSv1');
  });
});
