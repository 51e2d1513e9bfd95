import type { ConnectionObservation } from '../brokers/observation.ts';
import type { RotationSide } from '../harness/drivers/rotation.ts';

/** A step as the server can recognise it: the port side it dialled and the client id it sent. */
export interface StepConnection {
  readonly name: string;
  readonly server: RotationSide;
  readonly clientId: string;
}

/** What the servers saw: each step's own door, when the lab could open them, and each side's main port. */
export interface ServerSight {
  /** Connections by step name, on that step's own port; null where no doors could be opened. */
  readonly doors: ReadonlyMap<string, readonly ConnectionObservation[]> | null;
  readonly sides: Readonly<Record<RotationSide, readonly ConnectionObservation[]>>;
}

const carries = (clientId: string) => (o: ConnectionObservation) => o.mqttConnect?.clientId === clientId;

/**
 * The server observation each step produced, tied by what the connection itself carries and never
 * by order or time. On a step's own door every connection is the step's (the one with its client
 * id says most). Without doors: the step's client id on its side's port; and a refused step (no
 * MQTT CONNECT, so no client id) only when it is the one untied step on that port and exactly one
 * connection there carried no client id. A step nothing is tied to is absent from the result.
 */
export function tieObservations(
  steps: readonly StepConnection[],
  sight: ServerSight,
): Map<string, ConnectionObservation> {
  const tied = new Map<string, ConnectionObservation>();
  if (sight.doors) {
    for (const s of steps) {
      const door = sight.doors.get(s.name) ?? [];
      const o = door.find(carries(s.clientId)) ?? door.findLast((x) => x.clientHello !== null) ?? door.at(-1);
      if (o) tied.set(s.name, o);
    }
    return tied;
  }
  for (const side of ['old', 'new'] as const) {
    const onSide = steps.filter((s) => s.server === side);
    const seen = sight.sides[side];
    for (const s of onSide) {
      const o = seen.find(carries(s.clientId));
      if (o) tied.set(s.name, o);
    }
    const untied = onSide.filter((s) => !tied.has(s.name));
    const anonymous = seen.filter((o) => o.mqttConnect === null);
    if (untied.length === 1 && anonymous.length === 1)
      tied.set(untied[0]?.name ?? '', anonymous[0] as ConnectionObservation);
  }
  return tied;
}
