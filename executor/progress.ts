/**
 * What the executor tells whoever watches a build. The executor reports facts (a step
 * started, printed, finished, was cached); how they look is the CLI's business.
 */
export interface ProgressSink {
  /** A vertex began: `name` is its display line, e.g. `[2/3] ADD hello /`. */
  start(id: number, name: string): void;
  /** Output of a running step (RUN's stdout/stderr). */
  log(id: number, chunk: Uint8Array): void;
  /** A short status line under the step (`writing image sha256:… done`). */
  status(id: number, text: string): void;
  /** The step finished: cached (a cache hit), done, or failed with a one-line reason. */
  end(id: number, outcome: { cached?: boolean; error?: string }): void;
  /** A warning to show once (unused build args, …). */
  warn(text: string): void;
}

/** A sink that shows nothing (library use, tests). */
export const silentProgress: ProgressSink = {
  start() {},
  log() {},
  status() {},
  end() {},
  warn() {},
};
