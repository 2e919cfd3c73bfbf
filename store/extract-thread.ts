import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { unpackSplit, unpackTar } from './layers.js';
import { inWorker } from './worker-thread.js';

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
  const { split } = await w.done.finally(unhook);
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
      // A copy: the writer may reuse its buffer once this write is done (the tar writer does).
      held!.push(Buffer.from(chunk));
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
