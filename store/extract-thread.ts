import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { UserError } from '../common/index.js';
import { unpackSplit, unpackTar } from './layers.js';

/**
 * This build's own layers, unpacked for the steps after them (`unpackTar`: the store's one
 * extractor, unhashed, since the layer's digest is known) in a worker thread once a tar is
 * big: its thousands of file writes then run beside the main thread's work (a COPY step
 * reads its context and writes the layer tar while its dir is unpacked) instead of taking
 * turns with it. A small tar is unpacked on the main thread, where it costs less than a
 * worker's start. Same extractor, same checks, same result either way.
 */

/** Past this many bytes of tar a worker unpacks it (below, the start of one costs more). */
const WORKER_FROM_BYTES = 4 * 1024 * 1024;
/** Bytes posted to the worker at once: fewer, larger messages (each costs microseconds). */
const BATCH_BYTES = 128 * 1024;
/** Bytes posted that the worker has not taken yet; past this the writer waits, so memory stays flat. */
const IN_FLIGHT_BYTES = 2 * 1024 * 1024;

/** What the worker is given (workerData). */
export interface UnpackJob {
  target: string;
  what: string;
  /** A tar file the worker reads itself; absent: the bytes come as messages. */
  file?: string;
  /** Record the tar's split (store/tar-split.ts) and send it back with `done`. */
  isSplitting?: boolean;
}
/** A batch of the tar's bytes, or null: the end. */
export type ToWorker = Uint8Array | null;
export type FromWorker =
  | { kind: 'taken'; bytes: number }
  | { kind: 'done'; split?: Uint8Array }
  | { kind: 'failed'; error: { code?: string; message: string; where?: string; hint?: string } };

/** An unpacking under way: the tar's bytes go to `sink`; ending it ends the archive. */
export interface LayerUnpack {
  sink: Writable;
  /** Settles once the tar is unpacked, with the extractor's error if it failed. */
  done: Promise<void>;
  /** Stop now: `done` rejects. */
  abort(): void;
}

/** Unpack the tar file `file` into the existing empty dir `target`. */
export async function unpackTarFile(file: string, target: string, what: string): Promise<void> {
  if ((await stat(file)).size < WORKER_FROM_BYTES) return unpackTar(createReadStream(file), target, { what });
  await inWorker({ target, what, file }).done;
}

/**
 * `unpackTarFile`, recording the tar's split: its encoded bytes (store/tar-split.ts), or
 * undefined when entries replaced one another and the dir cannot stand for the tar.
 */
export async function unpackTarFileSplit(file: string, target: string, what: string, signal?: AbortSignal): Promise<Buffer | undefined> {
  signal?.throwIfAborted();
  const stop = (abort: () => void) => {
    signal?.addEventListener('abort', abort, { once: true });
    return () => signal?.removeEventListener('abort', abort);
  };
  if ((await stat(file)).size < WORKER_FROM_BYTES) {
    const src = createReadStream(file);
    const unhook = stop(() => src.destroy(new Error('abandoned')));
    return unpackSplit(src, target, what).finally(unhook);
  }
  const w = inWorker({ target, what, file, isSplitting: true });
  const unhook = stop(() => w.abort());
  // `done` rejects on abort once the thread is gone: nothing writes into `target` after that.
  const split = await w.done.finally(unhook);
  return split ? Buffer.from(split.buffer, split.byteOffset, split.byteLength) : undefined;
}

/** Unpack, into the existing empty dir `target`, the tar written to the returned sink. */
export function startUnpack(target: string, what: string): LayerUnpack {
  let held: Buffer[] | undefined = [];
  let heldBytes = 0;
  let worker: ReturnType<typeof inWorker> | undefined;
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  let onMain: Readable | undefined;
  let isAborted = false;
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined); // the caller awaits it later; an early failure is not unhandled meanwhile
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (isAborted) return cb();
      if (worker) return worker.sink.write(chunk, () => cb());
      held!.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < WORKER_FROM_BYTES) return cb();
      worker = inWorker({ target, what });
      worker.done.then(() => settle.resolve(), settle.reject);
      for (const c of held!) worker.sink.write(c);
      held = undefined;
      if (worker.sink.writableNeedDrain) worker.sink.once('drain', () => cb());
      else cb();
    },
    final(cb) {
      if (isAborted) return cb();
      if (worker) return worker.sink.end(() => cb());
      onMain = Readable.from(held!);
      unpackTar(onMain, target, { what }).then(settle.resolve, settle.reject);
      held = undefined;
      cb();
    },
  });
  return {
    sink,
    done,
    // `done` settles once nothing writes into `target` any more.
    abort: () => {
      isAborted = true;
      held = undefined;
      if (worker) worker.abort();
      else if (onMain) onMain.destroy(new Error('abandoned'));
      else settle.reject(new Error('abandoned'));
    },
  };
}

// The CLI bundle runs the worker's own bundle (scripts/bundle.mjs); the compiled modules run the module.
const bundled = new URL('./tsbuild-extract.cjs', import.meta.url);
const workerFile = existsSync(bundled) ? bundled : new URL('./extract-worker.js', import.meta.url);

function inWorker(job: UnpackJob): Omit<LayerUnpack, 'done'> & { done: Promise<Uint8Array | undefined> } {
  const worker = new Worker(workerFile, { workerData: job });
  let inFlight = 0;
  let resume: (() => void) | undefined;
  let isOver = false;
  let isAborted = false;
  const wake = () => {
    const r = resume;
    resume = undefined;
    r?.();
  };
  const done = new Promise<Uint8Array | undefined>((resolve, reject) => {
    const over = (fn: () => void) => {
      if (isOver) return;
      isOver = true;
      wake();
      fn();
      void worker.terminate();
    };
    worker.on('message', (m: FromWorker) => {
      if (m.kind === 'taken') {
        inFlight -= m.bytes;
        if (inFlight <= IN_FLIGHT_BYTES) wake();
      } else if (m.kind === 'done') over(() => resolve(m.split));
      else over(() => reject(m.error.code ? new UserError(m.error.code, m.error.message, { where: m.error.where, hint: m.error.hint }) : new Error(m.error.message)));
    });
    worker.on('error', (e) => over(() => reject(e)));
    worker.on('exit', (code) => over(() => reject(new Error(`the extraction worker exited (${code}) before it finished`))));
  });
  done.catch(() => undefined);

  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (pendingBytes === 0 || isOver || isAborted) return;
    // Its own memory (never the pool small buffers share), so it is transferred, not copied again.
    const batch = Buffer.allocUnsafeSlow(pendingBytes);
    let at = 0;
    for (const c of pending) at += c.copy(batch, at);
    pending = [];
    pendingBytes = 0;
    inFlight += batch.length;
    worker.postMessage(batch, [batch.buffer]);
  };
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (isOver || isAborted) return cb();
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= BATCH_BYTES) flush();
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
