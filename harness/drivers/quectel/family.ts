import type { DriverFamilyModule } from '../family.ts';
import { atLineSpeed } from '../line-speed.ts';
import type { DeviceOwnership } from '../ownership.ts';
import { QUECTEL_AT } from './at-dialect.ts';
import { DEFAULT_QUECTEL_OWNERSHIP, QuectelDriver, type QuectelOwnership } from './driver.ts';
import { ResetBudget } from './reset-budget.ts';
import { QUECTEL_TIMEOUTS } from './timeouts.ts';

function quectelOwnership(o: DeviceOwnership | undefined): QuectelOwnership {
  return {
    ...DEFAULT_QUECTEL_OWNERSHIP,
    ...(o?.filePrefix !== undefined ? { filePrefix: o.filePrefix } : {}),
    ...(o?.sslContext !== undefined ? { sslContext: o.sslContext } : {}),
    ...(o?.mqttClient !== undefined ? { mqttClient: o.mqttClient } : {}),
  };
}

/** Quectel EC200U / EC800N / EC200M / EC200N (QFUPL, QSSLCFG, QMT*). */
export const QUECTEL_FAMILY: DriverFamilyModule = {
  name: 'quectel',
  title: 'Quectel EC200x / EC800x',
  ownershipKeys: ['filePrefix', 'sslContext', 'mqttClient'],
  at: QUECTEL_AT,
  createDriver: (at, { owned, baud, real, resetBudgetFile, delta, journal }) =>
    new QuectelDriver(
      at,
      quectelOwnership(owned),
      atLineSpeed(QUECTEL_TIMEOUTS, baud, ['uploadTimeoutS', 'registrationPoll']),
      { delta, journal, ...(real ? { resetBudget: new ResetBudget({ file: resetBudgetFile }) } : {}) },
    ),
  health: {
    // ATI gives the model and "Revision:"; AT+QGMR the longer revision.
    async identity(ask) {
      const ati = await ask('ATI');
      if (!ati?.ok) return { unanswered: 'ATI', answer: ati };
      const revisions: string[] = [];
      const revision = ati.lines
        .find((l) => l.startsWith('Revision:'))
        ?.slice('Revision:'.length)
        .trim();
      if (revision) revisions.push(revision);
      const qgmr = await ask('AT+QGMR');
      if (qgmr?.ok && qgmr.lines[0]) revisions.push(qgmr.lines[0].trim());
      return { model: ati.lines[1]?.trim() ?? null, revisions };
    },
    // LTE first; a module on 2G/3G registers in CREG only.
    registration: ['AT+CEREG?', 'AT+CREG?'],
    pdp: 'AT+QIACT?',
  },
};
