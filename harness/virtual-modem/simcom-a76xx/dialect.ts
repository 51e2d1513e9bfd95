import type { VirtualDialect } from '../dialect.ts';
import { VirtualSimcomModem } from './modem.ts';

/** The built-in SIMCom A76xx (A7670E by default). */
export const SIMCOM_A76XX_VIRTUAL: VirtualDialect = {
  family: 'simcom-a76xx',
  defaultPersonality: 'strict',
  label: 'virtual-a76xx',
  start(io, common, seed) {
    const modem = new VirtualSimcomModem(io, { ...common, ...(seed.files ? { files: seed.files } : {}) });
    return { modem, files: () => modem.files() };
  },
  hostile: {
    settings: [
      '^AT\\+CSSLCFG="enableSNI",',
      '^AT\\+CSSLCFG="authmode",',
      '^AT\\+CSSLCFG="cacert",',
      '^AT\\+CMQTTSSLCFG=',
    ],
    open: '^AT\\+CMQTTCONNECT=',
    strayUrcs: ['+CEREG: 1', '+CGEV: EPS PDN ACT 1', 'SMS DONE', 'PB DONE'],
    // The CCERTDOWN data phase loses bytes.
    damagedUpload: (pick) => [
      {
        kind: 'truncate-upload',
        keepBytes: pick(10, 400),
        on: { command: '^AT\\+CCERTDOWN=', occurrence: pick(1, 2) },
      },
    ],
  },
};
