import { describe, expect, it } from 'vitest';
import { FaultPlan } from './faults.ts';

describe('FaultPlan', () => {
  it('refuses a pattern that is no regular expression when it is configured, naming the fault', () => {
    expect(() => new FaultPlan([{ kind: 'lose-urc', urc: '+CMQTTDISC: 1,0' }])).toThrow(
      /fault 1 \(lose-urc\): "\+CMQTTDISC: 1,0" is not a regular expression/,
    );
    expect(() => new FaultPlan([{ kind: 'refuse', on: { command: '^AT(' } }])).toThrow(/fault 1 \(refuse\)/);
  });

  it('fires an escaped pattern on its occurrence, once', () => {
    const plan = new FaultPlan([{ kind: 'lose-urc', urc: '^\\+CMQTTDISC: 1,0$', occurrence: 2 }]);
    expect([1, 2, 3].map(() => plan.losesUrc('+CMQTTDISC: 1,0'))).toEqual([false, true, false]);
  });
});
