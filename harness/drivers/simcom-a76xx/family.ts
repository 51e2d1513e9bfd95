import type { DriverFamilyModule } from '../family.ts';
import { atLineSpeed } from '../line-speed.ts';
import { SIMCOM_A76XX_AT } from './at-dialect.ts';
import { DEFAULT_SIMCOM_OWNERSHIP, SIMCOM_INDEX_RANGES, SimcomA76xxDriver } from './driver.ts';
import { SIMCOM_A76XX_TIMEOUTS } from './timeouts.ts';

/** `Key: value` of one ATI / AT+SIMCOMATI line. */
const infoValue = (lines: readonly string[], key: string) =>
  lines
    .find((l) => l.startsWith(`${key}:`))
    ?.slice(key.length + 1)
    .trim() ?? null;

/** SIMCom A7670 / A7672 / A7608 (AT+CCERTDOWN, AT+CSSLCFG, AT+CMQTT*). */
export const SIMCOM_A76XX_FAMILY: DriverFamilyModule = {
  name: 'simcom-a76xx',
  title: 'SIMCom A76xx',
  ownershipKeys: ['filePrefix', 'sslContext', 'mqttClient'],
  indexRanges: SIMCOM_INDEX_RANGES,
  at: SIMCOM_A76XX_AT,
  createDriver: (at, { owned, baud, delta, journal }) =>
    new SimcomA76xxDriver(
      at,
      {
        ...DEFAULT_SIMCOM_OWNERSHIP,
        ...(owned?.filePrefix !== undefined ? { filePrefix: owned.filePrefix } : {}),
        ...(owned?.sslContext !== undefined ? { sslContext: owned.sslContext } : {}),
        ...(owned?.mqttClient !== undefined ? { mqttClient: owned.mqttClient } : {}),
      },
      atLineSpeed(SIMCOM_A76XX_TIMEOUTS, baud, ['registrationPoll']),
      { delta, journal },
    ),
  health: {
    // AT+SIMCOMATI answers `Model:` and `Revision:` lines; ATI the same on modules without it.
    async identity(ask) {
      const simcom = await ask('AT+SIMCOMATI');
      const info = simcom?.ok ? simcom : await ask('ATI');
      if (!info?.ok) return { unanswered: 'ATI', answer: info };
      const cgmr = await ask('AT+CGMR');
      const revisions = [infoValue(info.lines, 'Revision'), cgmr?.ok ? infoValue(cgmr.lines, '+CGMR') : null];
      return {
        model: infoValue(info.lines, 'Model'),
        revisions: revisions.filter((r): r is string => !!r),
      };
    },
    registration: ['AT+CEREG?', 'AT+CREG?'],
    pdp: 'AT+CGACT?',
  },
  rotationDocumented: {
    rebind:
      'A76XX: AT+CSSLCFG="cacert",<ctx>,"<name>" names the CA of an SSL context by certificate name and AT+CMQTTSSLCFG binds the context to the client, so the new CA is downloaded under a new name (AT+CCERTDOWN) and bound; the old name is deleted (AT+CCERTDELE) after a successful reconnection (the support procedure)',
    reboot:
      'A76XX: AT+CRESET restarts the module, which announces itself with *ATREADY: 1; certificates downloaded with AT+CCERTDOWN are files in the module, AT+CSSLCFG settings are not documented as saved',
  },
};
