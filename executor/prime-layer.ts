import { mkdir } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { Digest } from '../common/index.js';
import { startUnpack, unpackTarFile, type Store } from '../store/index.js';

const what = `this build's layer`;

/**
 * Extract a layer this build just wrote (a COPY's tar at `tarPath`) into `dir` (created
 * here) with the store's one extractor, so the next RUN finds its lower dir ready instead
 * of waiting for the store to extract the layer when it is first used. Whiteout names in
 * the tar (`.wh.*` files of the context) become overlay whiteouts there, as a layer's
 * meaning requires. False when `dir` cannot serve as the layer's dir (a full tmpfs, say);
 * the caller removes `dir` then. A big layer is unpacked in a worker thread (store/extract-thread.ts).
 */
export async function extractOwnLayer(tarPath: string, dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { mode: 0o755 });
    await unpackTarFile(tarPath, dir, what);
    return true;
  } catch {
    return false;
  }
}

/** A layer tar being extracted while it is written (see `startOwnExtraction`). */
export interface OwnExtraction {
  /** Where the tar's bytes go. It never fails: after the extraction fails, bytes are dropped. */
  sink: Writable;
  /** After `sink` has ended: whether `dir` now serves as the layer's dir (as `extractOwnLayer`). */
  done(): Promise<boolean>;
  /** The layer was not written: stop the extraction (the caller removes `dir`). */
  abandon(): void;
}

/**
 * `extractOwnLayer` fed as the layer is written instead of from the finished blob, so the
 * extraction runs beside the writing (on another core, when it is big). The tar is only known to be the
 * layer's once the blob is committed: the caller calls `done()` after that, and `abandon()`
 * on any failure.
 */
export async function startOwnExtraction(dir: string): Promise<OwnExtraction> {
  await mkdir(dir, { mode: 0o755 });
  const x = startUnpack(dir, what);
  const extracted = x.done.then(
    () => true,
    () => false,
  );
  return {
    sink: forgiving(x.sink),
    done: () => extracted,
    abandon: () => x.abort(),
  };
}

/**
 * A writable in front of `target` that keeps its backpressure but never fails: once `target`
 * breaks or is destroyed, bytes are dropped. It calls back when `target` has: a chunk that
 * `target` only queued (it was busy) is still the writer's buffer, which the tar writer fills
 * again once called back (store/tar-write.ts).
 */
function forgiving(target: Writable): Writable {
  let isBroken = false;
  target.on('error', () => {
    isBroken = true;
  });
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (isBroken || target.destroyed) return cb();
      // A destroyed target calls back with its error: the bytes are dropped then.
      target.write(chunk, () => cb());
    },
    final(cb) {
      if (!isBroken && !target.destroyed) target.end();
      cb();
    },
  });
}

/**
 * Extract this build's layer `diffId` onto the store's disk, as the layer's dir. Failures are
 * not errors: the store then extracts the layer itself when it is needed (so is an abandoned one).
 */
export async function primeLayerDir(store: Store, diffId: Digest, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  try {
    await store.extractOwnLayer(diffId, signal);
  } catch {
    // The store's own extraction still works; this was only a head start.
  }
}
