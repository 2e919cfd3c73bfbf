import type { SourceRange } from './source-range.js';

/**
 * A failure the user caused and can act on: a stable code, one message, where it happened
 * (a source range, or the object named: an image, a path) and a hint when one helps.
 * Everything that is not a UserError is a bug and is reported as one by the CLI.
 */
export class UserError extends Error {
  readonly code: string;
  readonly where: SourceRange | string | undefined;
  readonly hint: string | undefined;
  /** Extra lines printed under the message (e.g. the last lines of a failed RUN's output). */
  readonly detail: string | undefined;
  /** Process exit code the CLI uses for this error (default 1). */
  readonly exitCode: number;

  constructor(
    code: string,
    message: string,
    opts: { where?: SourceRange | string; hint?: string; detail?: string; exitCode?: number } = {},
  ) {
    super(message);
    this.name = 'UserError';
    this.code = code;
    this.where = opts.where;
    this.hint = opts.hint;
    this.detail = opts.detail;
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** Several user errors found in one pass (the parser keeps going and reports them all). */
export class UserErrors extends Error {
  readonly errors: UserError[];
  constructor(errors: UserError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'UserErrors';
    this.errors = errors;
  }
}

/** Exhaustiveness check for `switch` over a discriminated union. */
export function unreachable(x: never): never {
  throw new Error(`[internal] unreachable: ${JSON.stringify(x)}`);
}

/** Short lowercase phrase for an I/O error: `store: write blob sha256:ab12…: ENOSPC`. */
export function ioMessage(what: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  return `${what}: ${code ?? (err as Error)?.message ?? String(err)}`;
}

/** Throw the user errors a loop collected: one as itself, several together; none: return. */
export function throwCollected(errors: UserError[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new UserErrors(errors);
}
