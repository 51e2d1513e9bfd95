import type { VirtualDialect } from '../dialect.ts';
import { VirtualQuectelModem } from './modem.ts';

/** The built-in Quectel EC200x / EC800x. */
export const QUECTEL_VIRTUAL: VirtualDialect = {
  family: 'quectel',
  defaultPersonality: 'strict',
  label: 'virtual',
  start(io, common, seed) {
    const modem = new VirtualQuectelModem(io, { ...common, ...(seed.files ? { files: seed.files } : {}) });
    return { modem, files: () => modem.files() };
  },
  hostile: {
    settings: [
      '^AT\\+QSSLCFG="sni",',
      '^AT\\+QSSLCFG="seclevel",',
      '^AT\\+QMTCFG="ssl",',
      '^AT\\+QSSLCFG="cacert",',
    ],
    open: '^AT\\+QMTOPEN=',
    strayUrcs: ['+QIND: "csq",20,99', '+CEREG: 1', '+CSCON: 1', '+QIND: "act","LTE"'],
    // The QFUPL data phase loses bytes.
    damagedUpload: (pick) => [
      {
        kind: 'truncate-upload',
        keepBytes: pick(10, 400),
        on: { command: '^AT\\+QFUPL=', occurrence: pick(1, 2) },
      },
    ],
  },
};
