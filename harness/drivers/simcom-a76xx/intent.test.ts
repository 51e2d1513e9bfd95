import { describe, expect, it } from 'vitest';
import { DEFAULT_INTENT, inexpressible } from '../tls-intent.ts';
import { simcomTlsCapabilities, sslServerType, sslValuesFor } from './intent.ts';
import { parseContext } from './ssl-context.ts';

/** `AT+CSSLCFG=?` as an A7682 answered it (a public transcript). */
const A7682 = [
  '+CSSLCFG: "sslversion",(0-9),(0-4)',
  '+CSSLCFG: "authmode",(0-9),(0-3)',
  '+CSSLCFG: "ignorelocaltime",(0-9),(0,1)',
  '+CSSLCFG: "negotiatetime",(0-9),(10-300)',
  '+CSSLCFG: "cacert",(0-9),(5-108)',
  '+CSSLCFG: "clientcert",(0-9),(5-108)',
  '+CSSLCFG: "clientkey",(0-9),(5-108)',
  '+CSSLCFG: "enableSNI",(0-9),(0,1)',
];
const ACCQ = ['+CMQTTACCQ: (0-1),(1-128),(0-1)'];

describe('SIMCom capabilities, from the module’s own test answers', () => {
  it('an A7682: SNI and clock switches, TLS 1.0–1.2 limits, no cipher-suite setting, no Quectel switch', () => {
    const caps = simcomTlsCapabilities({ 'AT+CSSLCFG=?': A7682, 'AT+CMQTTACCQ=?': ACCQ }, []);
    expect(caps).toMatchObject({
      peerVerification: ['none', 'server', 'mutual'],
      versions: ['TLSv1', 'TLSv1.1', 'TLSv1.2'],
      sniSwitch: true,
      clockSwitch: true,
      cipherSuiteSelection: false,
      vendor: [],
    });
    expect(inexpressible(DEFAULT_INTENT, caps, 'simcom-a76xx')).toBeNull();
    expect(inexpressible({ ...DEFAULT_INTENT, cipherSuites: ['0xC02F'] }, caps, 'simcom-a76xx')).toMatch(
      /no setting that limits the cipher suites/,
    );
    expect(
      inexpressible(
        { ...DEFAULT_INTENT, vendor: { 'quectel.ignoreinvalidcertsign': '1' } },
        caps,
        'simcom-a76xx',
      ),
    ).toMatch(/no quectel.ignoreinvalidcertsign switch/);
  });

  it('a firmware without enableSNI cannot be told about SNI: every intent is refused with that reason', () => {
    const caps = simcomTlsCapabilities({ 'AT+CSSLCFG=?': A7682.filter((l) => !l.includes('enableSNI')) }, []);
    expect(caps.sniSwitch).toBe(false);
    expect(inexpressible(DEFAULT_INTENT, caps, 'simcom-a76xx')).toMatch(/no switch for SNI/);
  });

  it('a cipher-suite key, spelled either way, is learned with its listed values', () => {
    const caps = simcomTlsCapabilities(
      { 'AT+CSSLCFG=?': [...A7682, '+CSSLCFG: "ciphersuites",(0-9),(0xC02F,0xC030,0xFFFF)'] },
      [],
    );
    expect(caps).toMatchObject({ cipherSuiteSelection: true, cipherSuites: ['0xC02F', '0xC030'] });
    expect(sslValuesFor({ ...DEFAULT_INTENT, cipherSuites: ['0xC030'] }, 'ciphersuites')).toMatchObject({
      ciphersuites: '0xC030',
    });
  });

  it('the SSL server type of AT+CMQTTACCQ comes from its test answer; a module without one has no MQTT over TLS', () => {
    expect(sslServerType({ 'AT+CMQTTACCQ=?': ACCQ }).value).toBe('1');
    expect(sslServerType({}).basis).toMatch(/assumed/);
    const plainOnly = simcomTlsCapabilities(
      { 'AT+CSSLCFG=?': A7682, 'AT+CMQTTACCQ=?': ['+CMQTTACCQ: (0-1),(1-128),(0)'] },
      [],
    );
    expect(plainOnly.unavailable).toMatch(/no MQTT-over-TLS server type/);
    expect(inexpressible(DEFAULT_INTENT, plainOnly, 'simcom-a76xx')).toMatch(
      /^not expressible on simcom-a76xx: no MQTT-over-TLS/,
    );
  });

  it('maps an intent to authmode, sslversion, enableSNI and ignorelocaltime, and refuses TLS 1.3 alone', () => {
    expect(
      sslValuesFor({ ...DEFAULT_INTENT, peerVerification: 'none', sni: false, version: 'TLSv1.2' }, null),
    ).toEqual({
      sslversion: '3',
      authmode: '0',
      enableSNI: '0',
      ignorelocaltime: '0',
    });
    expect(() => sslValuesFor({ ...DEFAULT_INTENT, version: 'TLSv1.3' }, null)).toThrow(
      /no value for TLSv1.3/,
    );
  });
});

describe('a context read-back', () => {
  const keys = ['sslversion', 'authmode', 'cacert', 'enableSNI'];
  it('is attributed key by key in the order the test answer listed', () => {
    const read = parseContext(['+CSSLCFG: 2,3,1,"ca,1.pem",0'], 2, keys);
    expect(Object.fromEntries(read?.values ?? [])).toEqual({
      sslversion: '3',
      authmode: '1',
      cacert: 'ca,1.pem',
      enableSNI: '0',
    });
  });

  it('is no read-back when its field count does not match, or it is another context', () => {
    expect(parseContext(['+CSSLCFG: 2,3,1,"ca.pem"'], 2, keys)).toBeNull();
    expect(parseContext(['+CSSLCFG: 3,3,1,"ca.pem",0'], 2, keys)).toBeNull();
  });
});
