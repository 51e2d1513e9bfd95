import type { VirtualDialect } from '../dialect.ts';
import { VirtualNrf91Modem } from './modem.ts';

/** The built-in nRF9160 running the Serial LTE Modem application. */
export const NRF91_VIRTUAL: VirtualDialect = {
  family: 'nrf91-slm',
  defaultPersonality: 'mfw-1.2.3',
  label: 'virtual-nrf91',
  receiveLimit: true,
  start(io, common, seed) {
    const modem = new VirtualNrf91Modem(io, {
      ...common,
      ...(seed.credentials ? { credentials: seed.credentials } : {}),
    });
    // Credentials as `<sec_tag>/<type>`, so foreign-credential checks read them like files.
    return {
      modem,
      files: () => new Map(modem.credentials().map((c) => [`${c.tag}/${c.type}`, Buffer.from(c.content)])),
    };
  },
  hostile: {
    settings: ['^AT\\+CMEE=', '^AT%CMNG=1', '^AT#XMQTTCFG=', '^AT\\+CFUN\\?'],
    open: '^AT#XMQTTCON=1',
    strayUrcs: ['+CEREG: 1', '+CSCON: 1', '%MDMEV: SEARCH STATUS 2', '%XMODEMSLEEP: 1,0'],
    // A %CMNG write is one line, so its answer comes behind a burst of noise instead.
    damagedUpload: (pick) => [{ kind: 'garbage', on: { command: '^AT%CMNG=0', occurrence: pick(1, 2) } }],
  },
};
