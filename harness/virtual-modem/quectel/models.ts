/**
 * What differs between Quectel models as the AT port shows it. Values come from the EC200x/EC800x
 * SSL application note and the EC200U field reports; where no document says
 * anything (firmware strings of models we have no transcript for) the value is illustrative and
 * configurable.
 */
export interface QuectelModel {
  readonly model: string;
  readonly defaultFirmware: string;
  /** QSSLCFG keys beyond the note's common set. */
  readonly extraSslKeys: readonly 'ignorecertitem'[];
  /** How the test command spells the security-level key: the note prints "secllevel". */
  readonly seclevelSpelling: 'seclevel' | 'secllevel';
  /** Publish commands this firmware has (Quectel's SDK uses QMTPUB on EC800M, QMTPUBEX on BG95). */
  readonly publishCommands: readonly ('QMTPUB' | 'QMTPUBEX')[];
}

export const QUECTEL_MODELS: Readonly<Record<string, QuectelModel>> = {
  EC200U: {
    model: 'EC200U',
    defaultFirmware: 'EC200UCNAAR03A03M08', // the firmware of the field report (docs/001)
    extraSslKeys: ['ignorecertitem'], // named in the EC200U-CN forum thread
    seclevelSpelling: 'seclevel',
    publishCommands: ['QMTPUB', 'QMTPUBEX'],
  },
  EC800N: {
    model: 'EC800N',
    defaultFirmware: 'EC800NCNLAR01A01M16', // illustrative: no public EC800N transcript
    extraSslKeys: [],
    seclevelSpelling: 'secllevel',
    publishCommands: ['QMTPUB', 'QMTPUBEX'],
  },
  EC200M: {
    model: 'EC200M',
    defaultFirmware: 'EC200MCNAAR01A01M16', // illustrative: no public EC200M transcript
    extraSslKeys: [],
    seclevelSpelling: 'secllevel',
    publishCommands: ['QMTPUB', 'QMTPUBEX'],
  },
};

export function quectelModel(name: string | undefined): QuectelModel {
  const key = (name ?? 'EC200U').toUpperCase().replace(/-.*$/, '');
  const m = QUECTEL_MODELS[key];
  if (!m) throw new Error(`unknown Quectel model ${name}; known: ${Object.keys(QUECTEL_MODELS).join(', ')}`);
  return m;
}
