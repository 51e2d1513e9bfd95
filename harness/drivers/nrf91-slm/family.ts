import type { DriverFamilyModule } from '../family.ts';
import { atLineSpeed } from '../line-speed.ts';
import { NRF91_SLM_AT } from './at-dialect.ts';
import { DEFAULT_NRF91_OWNERSHIP, Nrf91SlmDriver } from './driver.ts';
import { NRF91_SLM_TIMEOUTS } from './timeouts.ts';

/** nRF9160 running the Serial LTE Modem application (AT%CMNG, #XMQTT*, #XSSOCKET). */
export const NRF91_SLM_FAMILY: DriverFamilyModule = {
  name: 'nrf91-slm',
  title: 'nRF9160 Serial LTE Modem',
  ownershipKeys: ['secTags'],
  at: NRF91_SLM_AT,
  createDriver: (at, { owned, baud, delta, journal }) =>
    new Nrf91SlmDriver(
      at,
      owned?.secTags ? { secTags: owned.secTags } : DEFAULT_NRF91_OWNERSHIP,
      atLineSpeed(NRF91_SLM_TIMEOUTS, baud, ['registrationPollMs']),
      { delta, journal },
    ),
  health: {
    async identity(ask) {
      const cgmm = await ask('AT+CGMM');
      const cgmr = await ask('AT+CGMR');
      if (!cgmm?.ok && !cgmr?.ok) return { unanswered: 'AT+CGMR', answer: cgmr };
      return {
        model: cgmm?.ok ? (cgmm.lines[0]?.trim() ?? null) : null,
        revisions: cgmr?.ok && cgmr.lines[0] ? [cgmr.lines[0].trim()] : [],
      };
    },
    registration: ['AT+CEREG?'],
    pdp: 'AT+CGACT?',
  },
  rotationDocumented: {
    rebind:
      'SLM: a CA lives under a sec_tag (AT%CMNG, written with the modem offline) and #XMQTTCON names the sec_tag per connection (MQTT_AT_commands.rst), so the new CA goes under a second sec_tag and the next #XMQTTCON uses it; the old sec_tag is deleted after a successful reconnection (the support procedure)',
    reboot:
      'SLM: AT#XRESET answers OK, powers the modem off and cold-boots the SiP, then prints Ready (slm_at_commands.c handle_at_reset); AT%CMNG keeps credentials in the modem, #XMQTTCFG is SLM application state',
  },
};
