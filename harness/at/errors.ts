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
