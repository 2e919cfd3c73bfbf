import type { Writable, Readable } from 'node:stream';

/** What every command gets from main: where the store is and where to print. */
export interface CliContext {
  /** Store root (--root, TSBUILD_ROOT, or the default). */
  root: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
}

/**
 * `base` with some fields replaced, its getters kept as getters (main's stdin is one:
 * creating process.stdin costs a few ms that most commands never spend).
 */
export function withFields<T extends object, U extends object>(base: T, fields: U): Omit<T, keyof U> & U {
  return Object.defineProperties({}, { ...Object.getOwnPropertyDescriptors(base), ...Object.getOwnPropertyDescriptors(fields) }) as Omit<T, keyof U> & U;
}

/**
 * One verb of the CLI. `run` returns the process exit code; user mistakes are thrown as
 * UserError (main prints them and exits with their exitCode), usage errors as UsageError.
 */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  run(argv: string[], ctx: CliContext): Promise<number>;
}
