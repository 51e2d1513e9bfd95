import { describe, expect, it } from 'vitest';
import { type ConnectionObservation, newObservation } from '../brokers/observation.ts';
import { type StepConnection, tieObservations } from './step-observations.ts';

let next = 0;
/** A finished connection: refused at TLS (no client id), or one that sent CONNECT with this id. */
const seen = (clientId: string | null): ConnectionObservation => {
  const o = newObservation(++next, 'aedes', '127.0.0.1:1');
  o.handshake = clientId ? 'completed' : 'client-alert';
  o.clientHello = { sni: 'x.test' } as ConnectionObservation['clientHello'];
  if (clientId) o.mqttConnect = { clientId, protocolLevel: 4, at: o.openedAt };
  return o;
};

const REBIND: StepConnection[] = [
  { name: 'old-ca/old-server', server: 'old', clientId: 'rot-old-old' },
  { name: 'old-ca/new-server', server: 'new', clientId: 'rot-old-new' },
  { name: 'new-ca/new-server', server: 'new', clientId: 'rot-new-new' },
  { name: 'new-ca/old-server', server: 'old', clientId: 'rot-new-old' },
];

describe('tying server observations to rotation steps', () => {
  it("on the steps' own doors, each step gets its door's connection whatever the main ports hold", () => {
    const own = REBIND.map(
      (s) =>
        [
          s.name,
          [seen(s.name.startsWith('old-ca/old') || s.name === 'new-ca/new-server' ? s.clientId : null)],
        ] as const,
    );
    const doors = new Map(own.filter(([name]) => name !== 'new-ca/old-server'));
    // Main ports full of someone else's connections, in any order: never borrowed.
    const sides = { old: [seen('stranger'), seen(null)], new: [seen(null), seen('rot-new-new')] };
    const tied = tieObservations(REBIND, { doors, sides });
    for (const [name, obs] of doors) expect(tied.get(name)).toBe(obs[0]);
    // Its door saw nothing: no observation, although the old server's port saw an anonymous one.
    expect(tied.has('new-ca/old-server')).toBe(false);
  });

  it('on a door, the connection carrying the step id is preferred to a retry refused beside it', () => {
    const retry = seen(null);
    const published = seen('rot-old-old');
    const tied = tieObservations([REBIND[0] as StepConnection], {
      doors: new Map([['old-ca/old-server', [published, retry]]]),
      sides: { old: [], new: [] },
    });
    expect(tied.get('old-ca/old-server')).toBe(published);
  });

  it('without doors, by client id in any order, and a refused step only by elimination', () => {
    const oldOld = seen('rot-old-old');
    const newNew = seen('rot-new-new');
    const refusedOnNew = seen(null);
    const refusedOnOld = seen(null);
    // Order reversed against the steps, as late and out-of-order closes leave them.
    const tied = tieObservations(REBIND, {
      doors: null,
      sides: { old: [refusedOnOld, oldOld], new: [newNew, refusedOnNew] },
    });
    expect(tied.get('old-ca/old-server')).toBe(oldOld);
    expect(tied.get('new-ca/new-server')).toBe(newNew);
    expect(tied.get('old-ca/new-server')).toBe(refusedOnNew);
    expect(tied.get('new-ca/old-server')).toBe(refusedOnOld);
  });

  it('without doors, two connections without a client id on one port tie to nothing', () => {
    const tied = tieObservations(REBIND, {
      doors: null,
      sides: { old: [seen('rot-old-old'), seen(null), seen(null)], new: [seen('rot-new-new')] },
    });
    expect(tied.has('new-ca/old-server')).toBe(false);
    // The new port saw no refused connection at all: the refused step there has none either.
    expect(tied.has('old-ca/new-server')).toBe(false);
    expect(tied.get('old-ca/old-server')?.mqttConnect?.clientId).toBe('rot-old-old');
  });
});
