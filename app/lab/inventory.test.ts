import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FAMILY_NAMES } from '../../harness/families.ts';
import { devicePath, loadInventory, parseInventory } from './inventory.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/lab.yaml', import.meta.url));

const parse = (text: string) => () => parseInventory(text, 'lab.yaml');

describe('device inventory', () => {
  it('reads the committed example: every field, defaults filled in', () => {
    const inv = loadInventory(EXAMPLE);
    expect(inv.devices.map((d) => d.name)).toEqual(['ec200u-a', 'nrf9160-a', 'sim-ec200u']);
    expect(inv.maxResumes).toBe(2);
    const [quectel, nrf, sim] = inv.devices;
    expect(quectel).toMatchObject({
      port: '/dev/ttyUSB2',
      byId: '/dev/serial/by-id/usb-Quectel_EC200U-CN_0123456789-if02-port0',
      driver: 'quectel',
      model: 'EC200U',
      firmware: 'EC200UCNAAR03A03M08',
      apn: 'cmnet',
      powerCycle: { command: 'uhubctl -l 1-1 -p 2 -a cycle -d 5', timeoutMs: 30_000, settleMs: 15_000 },
      owned: { filePrefix: 'trustlab_', sslContext: 1, mqttClient: 1 },
      capabilities: ['tls-sni', 'qfupl-ack'],
      run: { dialHost: '192.168.50.1', listenHost: '0.0.0.0', dialName: 'lab.trustlab.example' },
      routes: { names: ['example.com', 'foo.example.com'], addresses: ['192.0.2.1'] },
    });
    // The stable path is what runs open and what the lock is keyed by.
    expect(quectel && devicePath(quectel)).toBe(quectel?.byId);
    expect(nrf?.powerCycle).toEqual({
      command: './scripts/pdu-outlet.sh cycle 3',
      timeoutMs: 30_000,
      settleMs: 10_000,
    });
    expect(nrf?.owned).toEqual({ secTags: { first: 0x54524c00, count: 16 } });
    expect(sim && devicePath(sim)).toBe('tcp://127.0.0.1:4001');
    expect(sim?.allowUnanswered).toEqual(['registration']);
  });

  it.each([
    ['devices: []', 'lab.yaml:1: devices: expected a non-empty list of devices'],
    ['devices:\n  - port: /dev/ttyUSB0', 'lab.yaml:2: devices[0].name: required'],
    [
      'devices:\n  - name: a\n    port: COMX',
      'lab.yaml:3: devices[0].port: COMX: expected a serial device path',
    ],
    [
      'devices:\n  - name: a\n    port: tcp://h:1\n    driver: sim800',
      `lab.yaml:4: devices[0].driver: "sim800" is not a driver (known: ${FAMILY_NAMES.join(', ')})`,
    ],
    [
      'devices:\n  - name: a\n    port: tcp://h:1\n    colour: red',
      'lab.yaml:4: devices[0].colour: unknown field',
    ],
    [
      'devices:\n  - name: a\n    port: tcp://h:1\n    allowUnanswered: [sim, coffee]',
      'lab.yaml:4: devices[0].allowUnanswered[1]: "coffee" is not a health check',
    ],
    [
      'devices:\n  - name: a\n    port: tcp://h:1\n    powerCycle: { command: x, timeoutMs: 5 }',
      'lab.yaml:4: devices[0].powerCycle.timeoutMs: expected a whole number from 100 to 600000',
    ],
    [
      'devices:\n  - name: a\n    port: tcp://h:1\n  - name: a\n    port: tcp://h:2',
      `lab.yaml:4: devices[1].name: "a" is already devices[0]'s name`,
    ],
    [
      'devices:\n  - name: a\n    port: /dev/ttyUSB0\n    byId: /dev/serial/by-id/x\n  - name: b\n    port: /dev/ttyUSB1\n    byId: /dev/serial/by-id/x',
      'lab.yaml:7: devices[1].byId: /dev/serial/by-id/x is also devices[0]',
    ],
    [
      'devices:\n  - name: n\n    port: tcp://h:1\n    driver: nrf91-slm\n    owned: { filePrefix: x_ }',
      'lab.yaml:5: devices[0].owned.filePrefix: unknown field (known: secTags)',
    ],
    [
      'devices:\n  - name: a\n    port: tcp://h:1\n    routes: { addresses: [example.com] }',
      'lab.yaml:4: devices[0].routes.addresses[0]: "example.com" is not an IP literal',
    ],
    ['devices:\n  - name: a\n    port: [unclosed', 'lab.yaml:3: not valid YAML'],
    ['- just a list', 'lab.yaml:1: (top level): expected a mapping with a `devices:` list'],
  ])('refuses %j with the file, line and field', (text, message) => {
    expect(parse(text)).toThrow(message);
  });

  it('names the file when it cannot be read', () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'trustlab-inv-')), 'nope.yaml');
    expect(() => loadInventory(missing)).toThrow(`${missing}: cannot read the inventory (ENOENT)`);
  });

  it('reads a file from disk with its own name in errors', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'trustlab-inv-')), 'bench.yaml');
    writeFileSync(file, 'devices:\n  - name: a\n    port: tcp://127.0.0.1:4001\n    firmware: 7\n');
    expect(() => loadInventory(file)).toThrow(`${file}:4: devices[0].firmware: expected a non-empty string`);
  });

  it.each([
    [
      'owned: { filePrefix: a_very_long_prefix_that_goes_on_and_on_ }',
      'lab.yaml:4: devices[0].owned: filePrefix: 3 to 32 letters, digits, dot, dash or underscore',
    ],
    ['owned: { filePrefix: "x/" }', 'lab.yaml:4: devices[0].owned: filePrefix: 3 to 32 letters'],
    [
      'owned: { sslContext: 6 }',
      'lab.yaml:4: devices[0].owned.sslContext: expected a whole number from 0 to 5',
    ],
  ])('refuses a Quectel ownership a run could not use: %s', (line, message) => {
    expect(() =>
      parseInventory(`devices:\n  - name: a\n    port: tcp://h:1\n    ${line}\n`, 'lab.yaml'),
    ).toThrow(message);
  });

  it('takes the SIMCom ranges from the family: context 9 is fine there, MQTT client 2 is not', () => {
    const inv = (owned: string) =>
      parseInventory(
        `devices:\n  - name: s\n    port: tcp://h:1\n    driver: simcom-a76xx\n    owned: ${owned}\n`,
        'lab.yaml',
      );
    expect(inv('{ sslContext: 9, mqttClient: 0 }').devices[0]?.owned).toEqual({
      sslContext: 9,
      mqttClient: 0,
    });
    expect(() => inv('{ mqttClient: 2 }')).toThrow(
      'lab.yaml:5: devices[0].owned.mqttClient: expected a whole number from 0 to 1',
    );
  });

  it('refuses an nRF91 sec_tag range that ends past the largest sec_tag', () => {
    expect(() =>
      parseInventory(
        'devices:\n  - name: n\n    port: tcp://h:1\n    driver: nrf91-slm\n    owned: { secTags: { first: 2147483600, count: 100 } }\n',
        'lab.yaml',
      ),
    ).toThrow('devices[0].owned: secTags: the range ends past 2147483647');
  });
});
