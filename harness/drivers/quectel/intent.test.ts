import { describe, expect, it } from 'vitest';
import { DEFAULT_INTENT, inexpressible } from '../tls-intent.ts';
import { listedValues, quectelTlsCapabilities, sslValuesFor } from './intent.ts';

/** An `AT+QSSLCFG=?` answer with the keys given, in the EC200x note's shape. */
const answer = (...lines: string[]) => ({ 'AT+QSSLCFG=?': lines.map((l) => `+QSSLCFG: ${l}`) });

const FULL = answer(
  '"sslversion",(0-5),(0-4)',
  '"ciphersuite",(0-5),(0X0035,0XC023,0XFFFF)',
  '"cacert",(0-5),<cacertpath>',
  '"clientcert",(0-5),<client_cert_path>',
  '"clientkey",(0-5),<client_key_path>',
  '"seclevel",(0-5),(0-2)',
  '"ignorelocaltime",(0-5),(0,1)',
  '"sni",(0-5),(0,1)',
  '"ignoreinvalidcertsign",(0-5),(0,1)',
);

describe('Quectel capabilities come from the module’s own AT+QSSLCFG=? answer', () => {
  it('reads ranges and lists of values', () => {
    expect(listedValues(FULL, 'sslversion')).toEqual(['0', '1', '2', '3', '4']);
    expect(listedValues(FULL, 'ciphersuite')).toEqual(['0X0035', '0XC023', '0XFFFF']);
    expect(listedValues(FULL, 'cacert')).toBeNull();
    expect(listedValues(FULL, 'negotiatetime')).toBeNull();
  });

  it('a full list can express every intent of the default matrix', () => {
    const caps = quectelTlsCapabilities(FULL);
    expect(caps.peerVerification).toEqual(['none', 'server', 'mutual']);
    expect(caps.versions).toEqual(['TLSv1', 'TLSv1.1', 'TLSv1.2']);
    expect(caps.vendor).toEqual(['quectel.ignoreinvalidcertsign']);
    expect(
      inexpressible({ ...DEFAULT_INTENT, sni: false, deviceClock: 'ignore' }, caps, 'quectel'),
    ).toBeNull();
    expect(inexpressible({ ...DEFAULT_INTENT, cipherSuites: ['0xc023'] }, caps, 'quectel')).toBeNull();
  });

  it('a module without sni, ignorelocaltime or client files says what it lacks', () => {
    const caps = quectelTlsCapabilities(
      answer('"sslversion",(0-5),(3,4)', '"cacert",(0-5),<cacertpath>', '"seclevel",(0-5),(0-1)'),
    );
    expect(inexpressible(DEFAULT_INTENT, caps, 'quectel')).toBe(
      'not expressible on quectel: no switch for SNI (it has a fixed behaviour)',
    );
    const sniless = { ...caps, sniSwitch: true };
    expect(inexpressible({ ...DEFAULT_INTENT, deviceClock: 'ignore' }, sniless, 'quectel')).toBe(
      'not expressible on quectel: no switch for the device clock',
    );
    expect(inexpressible({ ...DEFAULT_INTENT, version: 'TLSv1' }, sniless, 'quectel')).toBe(
      'not expressible on quectel: no setting that limits it to TLSv1',
    );
    expect(inexpressible({ ...DEFAULT_INTENT, peerVerification: 'mutual' }, sniless, 'quectel')).toMatch(
      /peer verification "mutual"/,
    );
    expect(
      inexpressible(
        { ...DEFAULT_INTENT, vendor: { 'quectel.ignoreinvalidcertsign': '1' } },
        sniless,
        'quectel',
      ),
    ).toBe('not expressible on quectel: no quectel.ignoreinvalidcertsign switch');
    expect(inexpressible({ ...DEFAULT_INTENT, cipherSuites: ['0xC02F'] }, sniless, 'quectel')).toBe(
      'not expressible on quectel: no setting that limits the cipher suites',
    );
  });

  it('a suite the module does not list is refused by name', () => {
    expect(
      inexpressible({ ...DEFAULT_INTENT, cipherSuites: ['0xC02F'] }, quectelTlsCapabilities(FULL), 'quectel'),
    ).toBe('not expressible on quectel: cipher suite 0xC02F is not one it lists');
  });

  it('without an answer the documented keys are assumed, and the basis says so', () => {
    const caps = quectelTlsCapabilities({ 'AT+QSSLCFG=?': null });
    expect(caps.sniSwitch).toBe(true);
    expect(caps.basis[0]).toMatch(/documented keys are assumed/);
  });
});

describe('the intent becomes QSSLCFG values in one place', () => {
  it('maps every field, under the seclevel spelling the module uses', () => {
    expect(
      sslValuesFor(
        {
          peerVerification: 'mutual',
          version: 'TLSv1.1',
          sni: false,
          deviceClock: 'ignore',
          cipherSuites: ['0xc023'],
          vendor: { 'quectel.ignoremulticertchainverify': '1' },
        },
        'secllevel',
      ),
    ).toEqual({
      sslversion: '2',
      secllevel: '2',
      sni: '0',
      ignorelocaltime: '1',
      ciphersuite: '0XC023',
      ignoremulticertchainverify: '1',
    });
    expect(sslValuesFor(DEFAULT_INTENT, 'seclevel')).toMatchObject({
      sslversion: '4',
      seclevel: '1',
      sni: '1',
      ignorelocaltime: '0',
      ciphersuite: '0XFFFF',
    });
  });

  it('refuses what QSSLCFG has no value for, and another vendor’s switch', () => {
    expect(() => sslValuesFor({ ...DEFAULT_INTENT, version: 'TLSv1.3' }, 'seclevel')).toThrow(/TLSv1.3/);
    expect(() => sslValuesFor({ ...DEFAULT_INTENT, cipherSuites: ['0xC023', '0xC02F'] }, 'seclevel')).toThrow(
      /one suite or all/,
    );
    expect(() => sslValuesFor({ ...DEFAULT_INTENT, vendor: { 'simcom.x': '1' } }, 'seclevel')).toThrow(
      /not a Quectel switch/,
    );
  });
});
