/** A wait ran past its bound. Carries the last bytes the device sent, for the report. */
export class AtTimeoutError extends Error {
  constructor(
    what: string,
    readonly timeoutMs: number,
    readonly lastBytes: string,
  ) {
    super(`${what}: no answer within ${timeoutMs} ms; last bytes received: ${JSON.stringify(lastBytes)}`);
    this.name = 'AtTimeoutError';
  }
}

/** The byte stream to the device closed or failed while something was waiting on it. */
export class AtLinkError extends Error {
  constructor(what: string, cause?: unknown) {
    super(`${what}: link to the device is closed${cause instanceof Error ? ` (${cause.message})` : ''}`);
    this.name = 'AtLinkError';
  }
}

/**
 * A command timed out earlier and the device could not be brought back in step (no late answer and
 * no answer to a plain `AT` either), so no later answer can be trusted to belong to its command.
 */
export class AtDesyncError extends Error {
  constructor(
    readonly abandoned: string,
    readonly lastBytes: string,
  ) {
    super(
      `device out of step after ${abandoned} timed out: no late answer and no answer to AT; last bytes received: ${JSON.stringify(lastBytes)}`,
    );
    this.name = 'AtDesyncError';
  }
}

/** The module announced a restart (RDY, Ready…) while a command or a wait was pending: no answer will come. */
export class AtRestartError extends Error {
  constructor(
    what: string,
    readonly notice: string,
  ) {
    super(`${what}: the module restarted (${JSON.stringify(notice)}) before answering`);
    this.name = 'AtRestartError';
  }
}

/** A URC that a waiter was told to fail on arrived first. */
export class AtUnexpectedUrcError extends Error {
  constructor(
    what: string,
    readonly urc: string,
  ) {
    super(`${what}: got ${JSON.stringify(urc)} instead`);
    this.name = 'AtUnexpectedUrcError';
  }
}

/** A command ended in ERROR, +CME ERROR or +CMS ERROR where the caller needed OK. */
export class AtCommandError extends Error {
  constructor(
    readonly command: string,
    readonly final: string,
  ) {
    super(`${command} -> ${final}`);
    this.name = 'AtCommandError';
  }
}

/** Errors after which the device cannot be trusted to be in a known state: it did not answer. */
export function isLinkFault(err: unknown): boolean {
  return err instanceof AtTimeoutError || err instanceof AtLinkError || err instanceof AtDesyncError;
}
