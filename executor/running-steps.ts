import type { Digest } from '../common/index.js';

/**
 * What the executions of one multi-platform build are running now, by cache key: a step
 * both platforms have (a `FROM --platform=$BUILDPLATFORM` stage) runs in one of them, the
 * other waiting until it ends and then taking its record.
 */
export type RunningSteps = Map<Digest, Promise<unknown>>;

/** `fn`, shown in `running` under `key` until it has ended (settled either way). */
export async function whileRunning<T>(running: RunningSteps | undefined, key: Digest, fn: () => Promise<T>): Promise<T> {
  if (!running) return fn();
  let done: () => void = () => {};
  const mine = new Promise<void>((resolve) => (done = resolve));
  running.set(key, mine);
  try {
    return await fn();
  } finally {
    if (running.get(key) === mine) running.delete(key);
    done();
  }
}
