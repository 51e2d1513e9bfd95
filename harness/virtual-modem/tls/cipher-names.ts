/**
 * IANA ids of the suites the Quectel SSL application note lists (Table 3), with their OpenSSL
 * names, for engines configured by name. mbedTLS takes the ids directly.
 */
export const OPENSSL_CIPHER_NAMES: Readonly<Record<number, string>> = {
  53: 'AES256-SHA',
  47: 'AES128-SHA',
  5: 'RC4-SHA',
  4: 'RC4-MD5',
  10: 'DES-CBC3-SHA',
  61: 'AES256-SHA256',
  49154: 'ECDH-ECDSA-RC4-SHA',
  49155: 'ECDH-ECDSA-DES-CBC3-SHA',
  49156: 'ECDH-ECDSA-AES128-SHA',
  49157: 'ECDH-ECDSA-AES256-SHA',
  49159: 'ECDHE-ECDSA-RC4-SHA',
  49160: 'ECDHE-ECDSA-DES-CBC3-SHA',
  49161: 'ECDHE-ECDSA-AES128-SHA',
  49162: 'ECDHE-ECDSA-AES256-SHA',
  49169: 'ECDHE-RSA-RC4-SHA',
  49170: 'ECDHE-RSA-DES-CBC3-SHA',
  49171: 'ECDHE-RSA-AES128-SHA',
  49172: 'ECDHE-RSA-AES256-SHA',
  49164: 'ECDH-RSA-RC4-SHA',
  49165: 'ECDH-RSA-DES-CBC3-SHA',
  49166: 'ECDH-RSA-AES128-SHA',
  49167: 'ECDH-RSA-AES256-SHA',
  49187: 'ECDHE-ECDSA-AES128-SHA256',
  49188: 'ECDHE-ECDSA-AES256-SHA384',
  49189: 'ECDH-ECDSA-AES128-SHA256',
  49190: 'ECDH-ECDSA-AES256-SHA384',
  49191: 'ECDHE-RSA-AES128-SHA256',
  49192: 'ECDHE-RSA-AES256-SHA384',
  49193: 'ECDH-RSA-AES128-SHA256',
  49194: 'ECDH-RSA-AES256-SHA384',
  49199: 'ECDHE-RSA-AES128-GCM-SHA256',
  49200: 'ECDHE-RSA-AES256-GCM-SHA384',
};

/** OpenSSL cipher string for the ids, or null when none has a known name. */
export function opensslCipherList(ids: readonly number[]): string | null {
  const names = ids.map((id) => OPENSSL_CIPHER_NAMES[id]).filter((n): n is string => n !== undefined);
  return names.length > 0 ? `${names.join(':')}:@SECLEVEL=0` : null;
}
