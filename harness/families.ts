import type { DriverFamilyModule } from './drivers/family.ts';
import { NRF91_SLM_FAMILY } from './drivers/nrf91-slm/family.ts';
import { QUECTEL_FAMILY } from './drivers/quectel/family.ts';
import { SIMCOM_A76XX_FAMILY } from './drivers/simcom-a76xx/family.ts';
import type { VirtualDialect } from './virtual-modem/dialect.ts';
import { NRF91_VIRTUAL } from './virtual-modem/nrf91/dialect.ts';
import { QUECTEL_VIRTUAL } from './virtual-modem/quectel/dialect.ts';
import { SIMCOM_A76XX_VIRTUAL } from './virtual-modem/simcom-a76xx/dialect.ts';

/** One modem family: its driver side and its virtual dialect. */
export interface ModemFamily {
  readonly driver: DriverFamilyModule;
  readonly virtual: VirtualDialect;
}

/** Every family the harness knows, one line each; the first is the default. */
const FAMILIES: readonly ModemFamily[] = [
  { driver: QUECTEL_FAMILY, virtual: QUECTEL_VIRTUAL },
  { driver: NRF91_SLM_FAMILY, virtual: NRF91_VIRTUAL },
  { driver: SIMCOM_A76XX_FAMILY, virtual: SIMCOM_A76XX_VIRTUAL },
];

/** Family names, as `--driver`, `--family` and the inventory spell them. */
export const FAMILY_NAMES: readonly string[] = FAMILIES.map((f) => f.driver.name);

/** The family a run uses when none is named. */
export const DEFAULT_FAMILY: string = FAMILY_NAMES[0] as string;

export class UnknownFamilyError extends Error {}

/** The family of this name; an unknown or misspelled name is an error listing the known ones. */
export function familyNamed(name: string): ModemFamily {
  const found = FAMILIES.find((f) => f.driver.name === name);
  if (!found) {
    throw new UnknownFamilyError(`unknown modem family "${name}" (known: ${FAMILY_NAMES.join(', ')})`);
  }
  return found;
}
