import { hints, messages, type MessageCode } from '../messages.js';

/**
 * What an instruction parser reports: a message code and its arguments, no location (the
 * dispatcher in index.ts attaches the instruction's range, or the keyword's).
 */
export class Problem extends Error {
  readonly code: MessageCode;
  readonly hint: string | undefined;
  readonly atKeyword: boolean;
  /** The flag at fault (`mount` for `--mount=…`), so the caret can point at it. */
  flag: string | undefined;
  /** Which occurrence of the flag, when it is given more than once. */
  last = false;
  constructor(code: MessageCode, message: string, opts: { hint?: string; atKeyword?: boolean } = {}) {
    super(message);
    this.code = code;
    this.hint = opts.hint ?? hints[code];
    this.atKeyword = opts.atKeyword ?? false;
  }

  /** Marks the flag this problem is about. */
  atFlag(flag: string, last = false): this {
    this.flag = flag;
    this.last = last;
    return this;
  }
}

/** A Problem with its message built from the catalogue. */
export function problem<C extends MessageCode>(code: C, ...args: Parameters<(typeof messages)[C]>): Problem {
  return new Problem(code, (messages[code] as (...a: unknown[]) => string)(...args));
}
