import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { UserError, isDigest, lazyBuiltin, type Digest } from '../common/index.js';

const workerThreads = /* @__PURE__ */ lazyBuiltin<typeof import('node:worker_threads')>('node:worker_threads');

/**
 * The store's worker thread (store/extract-worker.ts, its own bundle tsbuild-extract.cjs):
 * started per job, fed batches of bytes that are transferred, not copied, and held back
 * while more than IN_FLIGHT_BYTES wait in it. Its jobs: unpacking a layer tar
 * (extract-thread.ts) and hashing and writing a big blob (`startBlobThread`, blobs.ts).
 */

/** Bytes posted to the worker at once: fewer, larger messages (each costs microseconds). */
const BATCH_BYTES = 128 * 1024;
/** Bytes posted that the worker has not taken yet; past this the writer waits, so memory stays flat. */
const IN_FLIGHT_BYTES = 2 * 1024 * 1024;
/** Returned batches kept for reuse: what can be in flight, and one being filled. */
const SPARE_BATCHES = IN_FLIGHT_BYTES / BATCH_BYTES + 2;

/** What the worker is given (workerData): a tar to unpack, or a blob to hash and write (`startBlobThread`). */
export type WorkerJob = UnpackJob | BlobJob;

export interface UnpackJob {
  kind?: 'unpack';
  target: string;
  what: string;
  /** A tar file the worker reads itself; absent: the bytes come as messages. */
  file?: string;
  /** Record the tar's split (store/tar-split.ts) and send it back with `done`. */
  isSplitting?: boolean;
}
/** The posted bytes are hashed and written to `fd`, which the main thread opened and closes. */
export interface BlobJob {
  kind: 'blob';
  fd: number;
}
/** A batch of the tar's bytes, or null: the end. */
export type ToWorker = Uint8Array | null;
/** `done`: `split` of an unpacking that records it; `digest` and `size` of a blob. */
export type WorkerDone = { kind: 'done'; split?: Uint8Array; digest?: string; size?: number };
export type FromWorker =
  /** `returned`: a batch the worker is done with, sent back to be filled again (a blob's). */
  | { kind: 'taken'; bytes: number; returned?: ArrayBuffer }
  | WorkerDone
  | { kind: 'failed'; error: { code?: string; message: string; where?: string; hint?: string } };


// The CLI bundle runs the worker's own bundle (scripts/bundle.mjs); the compiled modules run the module.
const bundled = new URL('./tsbuild-extract.cjs', import.meta.url);
const workerFile = existsSync(bundled) ? bundled : new URL('./extract-worker.js', import.meta.url);

/**
 * A blob's bytes hashed (sha256) and written to the open file `fd` in a worker thread, so that
 * a big layer's hashing runs beside the main thread's tar writing instead of after each chunk
 * of it: workload 7's apt layer spent 320 ms of the main thread in sha256 and 140 ms in its
 * writes. `done` gives the digest and size once the sink has ended and every byte is written;
 * it rejects once the thread is gone after `abort`, so the caller may close `fd` then.
 */
export function startBlobThread(fd: number): { sink: Writable; done: Promise<{ digest: Digest; size: number }>; abort(): void } {
  const w = inWorker({ kind: 'blob', fd });
  const done = w.done.then((m) => {
    if (m.digest === undefined || !isDigest(m.digest) || m.size === undefined) throw new Error('[internal] the blob worker gave no digest');
    return { digest: m.digest, size: m.size };
  });
  done.catch(() => undefined);
  return { sink: w.sink, done, abort: w.abort };
}

/** A job's input and its end: bytes go to `sink`; `abort` stops it now (`done` rejects once the thread is gone). */
export interface WorkerRun {
  sink: Writable;
  done: Promise<WorkerDone>;
  abort(): void;
}

export function inWorker(job: WorkerJob): WorkerRun {
  const worker: Worker = new (workerThreads().Worker)(workerFile, { workerData: job });
  let inFlight = 0;
  let resume: (() => void) | undefined;
  let isOver = false;
  let isAborted = false;
  const wake = () => {
    const r = resume;
    resume = undefined;
    r?.();
  };
  const done = new Promise<WorkerDone>((resolve, reject) => {
    const over = (fn: () => void) => {
      if (isOver) return;
      isOver = true;
      wake();
      fn();
      void worker.terminate();
    };
    worker.on('message', (m: FromWorker) => {
      if (m.kind === 'taken') {
        if (m.returned?.byteLength === BATCH_BYTES && spare.length < SPARE_BATCHES) spare.push(Buffer.from(m.returned));
        inFlight -= m.bytes;
        if (inFlight <= IN_FLIGHT_BYTES) wake();
      } else if (m.kind === 'done') over(() => resolve(m));
      else over(() => reject(m.error.code ? new UserError(m.error.code, m.error.message, { where: m.error.where, hint: m.error.hint }) : new Error(m.error.message)));
    });
    worker.on('error', (e) => over(() => reject(e)));
    worker.on('exit', (code) => over(() => reject(new Error(`the extraction worker exited (${code}) before it finished`))));
  });
  done.catch(() => undefined);

  // Each chunk is copied into the batch as it is written: its writer may reuse its buffer
  // once the write is done (a tar writer's file reads do). The batch is its own memory (never
  // the pool small buffers share), so it is transferred, not copied again.
  let batch: Buffer | undefined;
  let batchAt = 0;
  // Batches the worker sent back. A transferred batch is freed only by the worker's GC, and
  // one that makes no objects seldom runs: a blob's 128 KiB batches piled up to ~64 MB there.
  const spare: Buffer[] = [];
  const flush = () => {
    if (!batch || batchAt === 0 || isOver || isAborted) return;
    const full = batch.subarray(0, batchAt);
    batch = undefined;
    batchAt = 0;
    inFlight += full.length;
    worker.postMessage(full, [full.buffer as ArrayBuffer]);
  };
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (isOver || isAborted) return cb();
      for (let at = 0; at < chunk.length; ) {
        batch ??= spare.pop() ?? Buffer.allocUnsafeSlow(BATCH_BYTES);
        const n = chunk.copy(batch, batchAt, at);
        at += n;
        batchAt += n;
        if (batchAt === batch.length) flush();
      }
      if (inFlight > IN_FLIGHT_BYTES && !isOver && !isAborted) resume = () => cb();
      else cb();
    },
    final(cb) {
      flush();
      if (!isOver && !isAborted) worker.postMessage(null satisfies ToWorker);
      cb();
    },
  });
  return {
    sink,
    done,
    // `done` rejects once the thread is gone: nothing writes into `target` after that.
    abort: () => {
      isAborted = true;
      wake();
      void worker.terminate();
    },
  };
}
