/**
 * Where a RUN step's overlay upper dir goes, decided before the step runs (a RUN runs
 * exactly once: a step that outgrows memory is never run again on disk). From what is known:
 *   - `TSBUILD_RUN_UPPER=disk|memory` decides outright (`memory` still within the room the
 *     memory budget gives); `TSBUILD_RUN_UPPER_BYTES=N` is a tmpfs of exactly N bytes;
 *   - else the step goes to memory only when the room the budget gives (memory-budget.ts)
 *     holds what the step is expected to write: twice the layer it wrote the last time it
 *     ran (exec-step.ts's memo by cache key, else its cache record) plus 64 MiB, or 2 GiB
 *     when it never ran; a step that filled its tmpfs last time goes to disk.
 */
import { UserError } from '../common/index.js';

export type UpperSetting = 'auto' | 'memory' | 'disk';

/**
 * `expectedBytes`: what the step is expected to write, by the rule above; absent when the
 * size was chosen outright (`memory`, `TSBUILD_RUN_UPPER_BYTES`), which gets a tmpfs of its own.
 */
export type UpperPlace = { place: 'memory'; sizeBytes: number; expectedBytes?: number } | { place: 'disk' };

/** What was seen the last time the same step (the same cache key) ran. */
export interface UpperHistory {
  /** Size of the layer it wrote (0: none). */
  layerBytes?: number;
  /** Its in-memory upper dir filled up (it failed). */
  filledBytes?: number;
}

/** Expected room for a step never seen before. */
export const UNKNOWN_STEP_BYTES = 2 * 1024 ** 3;
/** Room kept beyond a known step's size: directories, metadata, a little growth. */
const SLACK_BYTES = 64 * 1024 ** 2;
/** An explicit `memory` gets at least this much, even with less room. */
const MIN_EXPLICIT_BYTES = 64 * 1024 ** 2;

export const upperMessages = {
  'upper-full': (sizeMiB: number) =>
    `the step filled its in-memory upper dir (${sizeMiB} MiB); it was not run again, and what it wrote may be incomplete`,
} satisfies Record<string, (...args: never[]) => string>;

export const UPPER_FULL_HINT = 'set TSBUILD_RUN_UPPER=disk to write its upper dir on disk (a new build of this step does so by itself)';

/** Expected tmpfs use of a step, from its history; undefined when it does not fit in memory. */
function expectedBytes(seen: UpperHistory | undefined): number {
  if (seen?.filledBytes !== undefined) return Infinity;
  if (seen?.layerBytes !== undefined) return 2 * seen.layerBytes + SLACK_BYTES;
  return UNKNOWN_STEP_BYTES;
}

/** The rule above, given the room the memory budget offers now. */
export function chooseUpperPlace(opts: { setting: UpperSetting; fixedBytes?: number; seen?: UpperHistory; roomBytes: number }): UpperPlace {
  if (opts.setting === 'disk') return { place: 'disk' };
  if (opts.fixedBytes !== undefined && opts.fixedBytes > 0) return { place: 'memory', sizeBytes: opts.fixedBytes };
  if (opts.setting === 'memory') return { place: 'memory', sizeBytes: Math.max(opts.roomBytes, MIN_EXPLICIT_BYTES) };
  const expected = expectedBytes(opts.seen);
  return opts.roomBytes >= expected ? { place: 'memory', sizeBytes: opts.roomBytes, expectedBytes: expected } : { place: 'disk' };
}
