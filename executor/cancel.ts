import { UserError } from '../common/index.js';

/**
 * A cancelled build (Ctrl-C: SIGINT or SIGTERM, cli/commands/build.ts): the running step's
 * container is killed, its mounts are removed, and the build ends with this error, which
 * the CLI turns into exit 130 after the one line it printed.
 */
export const BUILD_CANCELLED = 'build-cancelled';

/** The error a cancelled build ends with (exit 130; the CLI prints nothing more for it). */
export function cancelled(): UserError {
  return new UserError(BUILD_CANCELLED, 'build cancelled', { exitCode: 130 });
}

/** Throw `cancelled()` when `signal` is aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled();
}
