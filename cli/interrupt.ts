import type { Writable } from 'node:stream';

/** What a shell reports for a command ended by SIGINT (128 + 2). */
export const INTERRUPTED_EXIT = 130;

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface Interrupts {
  /** Aborted at the first Ctrl-C: the work stops and cleans up after itself. */
  readonly signal: AbortSignal;
  /** Stop catching the signals (in `finally`). */
  dispose(): void;
}

/**
 * Ctrl-C (SIGINT, or SIGTERM) while a command works: the first prints `line` (if any) and
 * aborts `signal`, so the work stops and removes what it made; a second exits at once.
 */
export function catchInterrupts(stderr: Writable, line?: string): Interrupts {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(INTERRUPTED_EXIT);
    if (line) stderr.write(line + '\n');
    controller.abort();
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
}
