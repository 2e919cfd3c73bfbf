import type { ProgressSink } from '../executor/index.js';
import type { CheckWarning } from '../planner/index.js';

/**
 * What a running job reports, as data: the CLI's plain and tty renderers consume these, and
 * so can any program that calls the API (a test harness, an asset bundler).
 */
export type ProgressEvent =
  /** A build step began; `name` is its display line, e.g. `[2/3] ADD hello /`. */
  | { type: 'step-start'; step: number; name: string }
  /** Output of a running step (a RUN's stdout and stderr). */
  | { type: 'step-log'; step: number; chunk: Uint8Array }
  /** A short status line under a step (`writing image sha256:… done`). */
  | { type: 'step-status'; step: number; text: string }
  /** The step finished: from the cache, done, or failed with a one-line reason. */
  | { type: 'step-end'; step: number; cached: boolean; error?: string }
  /** A warning, shown once (an unused build argument …). */
  | { type: 'warning'; text: string }
  /** The build checks' warnings (BuildKit's rules), once the plan is made; shown at the end. */
  | { type: 'checks'; warnings: CheckWarning[] }
  /** A line about work outside the steps: a pull's or push's progress, a cache transfer. */
  | { type: 'message'; text: string };

/** The DOM-style event a job dispatches as `progress`; its `detail` is the data. */
export class JobProgressEvent extends Event {
  constructor(readonly detail: ProgressEvent) {
    super('progress');
  }
}

/**
 * A running call of the API: an EventTarget of `progress` events and a promise of its
 * result. Listeners added right after the call see every event: the work starts on a later
 * turn of the event loop.
 *
 *   const job = build({ context: '.', tags: ['app'] });
 *   job.addEventListener('progress', (e) => console.log(e.detail));
 *   const { imageId } = await job;
 */
export class Job<T> extends EventTarget implements PromiseLike<T> {
  readonly result: Promise<T>;

  constructor(work: (emit: (event: ProgressEvent) => void) => Promise<T>) {
    super();
    this.result = new Promise<void>((r) => setImmediate(r)).then(() => work((e) => this.dispatchEvent(new JobProgressEvent(e))));
    // Nobody awaiting is the caller's choice; an unhandled rejection must not end the process for it.
    this.result.catch(() => {});
  }

  then<A = T, B = never>(ok?: ((value: T) => A | PromiseLike<A>) | null, fail?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.result.then(ok, fail);
  }

  override addEventListener(type: 'progress', listener: ((e: JobProgressEvent) => void) | null, options?: AddEventListenerOptions | boolean): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions | boolean): void;
  override addEventListener(type: string, listener: ((e: never) => void) | EventListenerObject | null, options?: AddEventListenerOptions | boolean): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }
}

/** The executor's sink, speaking events. */
export function sinkOf(emit: (event: ProgressEvent) => void): ProgressSink {
  return {
    start: (step, name) => emit({ type: 'step-start', step, name }),
    log: (step, chunk) => emit({ type: 'step-log', step, chunk }),
    status: (step, text) => emit({ type: 'step-status', step, text }),
    end: (step, o) => emit({ type: 'step-end', step, cached: o.cached === true, ...(o.error !== undefined ? { error: o.error } : {}) }),
    warn: (text) => emit({ type: 'warning', text }),
  };
}

/** A registry or cache transfer's progress lines, as `message` events. */
export function linesOf(emit: (event: ProgressEvent) => void): (line: string) => void {
  return (text) => emit({ type: 'message', text });
}
