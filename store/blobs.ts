import { createReadStream, statSync, utimesSync } from 'node:fs';
import { open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { Writable, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { join } from 'node:path';
import { DigestHasher, UserError, digestOf, hexOf, ioMessage, type Digest } from '../common/index.js';
import type { BlobWriter } from './contract.js';
import { publishFile, writeFileAtomic } from './atomic.js';
import { tempFilePath } from './temp.js';
import { startBlobThread } from './worker-thread.js';
import { hasTarSplit, openTarSplit, tarSplitSize } from './tar-split.js';

/**
 * Content-addressed blobs in `<root>/oci/blobs/sha256/<hex>`: immutable once renamed into
 * place. Writers hash while bytes pass and publish through store/atomic.ts. An uncompressed
 * layer whose dir is extracted may have no file here: it is read from its dir and tar-split
 * (store/tar-split.ts) by the same calls, so only `blobPath` readers see the difference.
 * Re-committing
 * an existing blob refreshes its ctime, which gc reads as "in use by a running build"
 * (store/gc.ts).
 */

export function blobsDir(root: string): string {
  return join(root, 'oci', 'blobs', 'sha256');
}

export function blobPath(root: string, digest: Digest): string {
  return join(blobsDir(root), hexOf(digest));
}

export async function hasBlob(root: string, digest: Digest): Promise<boolean> {
  return (statSync(blobPath(root, digest), { throwIfNoEntry: false })?.isFile() ?? false) || hasTarSplit(root, digest);
}

/** Bytes of a blob (a split layer's tar included), or undefined when absent. */
export function blobSize(root: string, digest: Digest): number | undefined {
  const st = statSync(blobPath(root, digest), { throwIfNoEntry: false });
  if (st?.isFile()) return st.size;
  return hasTarSplit(root, digest) ? tarSplitSize(root, digest) : undefined;
}

export async function readBlob(root: string, digest: Digest): Promise<Buffer | undefined> {
  try {
    return await readFile(blobPath(root, digest));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError('store-io', ioMessage(`store: read blob ${digest}`, e));
  }
}

export function openBlob(root: string, digest: Digest): Readable {
  const path = blobPath(root, digest);
  // Decided now: a blob replaced by its split meanwhile is read from the split.
  if (statSync(path, { throwIfNoEntry: false }) === undefined && hasTarSplit(root, digest)) return openTarSplit(root, digest);
  return createReadStream(path);
}

/** Remove the tar of a layer now held by its dir and split (the caller checked both are there). */
export async function dropTarBlob(root: string, diffId: Digest): Promise<void> {
  await rm(blobPath(root, diffId), { force: true });
}

/** Mark an existing blob as just written (see the file comment). */
function touch(path: string): void {
  const now = new Date();
  try {
    utimesSync(path, now, now);
  } catch {
    // gone meanwhile (a prune): the caller's lease keeps what it writes next
  }
}

/** Store bytes held in memory (configs, manifests): synchronous calls, see store/atomic.ts. */
export async function putBlob(root: string, bytes: Uint8Array | string): Promise<{ digest: Digest; size: number }> {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const digest = digestOf(data);
  const final = blobPath(root, digest);
  if (await hasBlob(root, digest)) {
    touch(final);
    return { digest, size: data.length };
  }
  try {
    // The temp file in <root>/tmp/, where leftovers of a killed writer are cleaned up.
    await writeFileAtomic(final, data, { tmp: tempFilePath(root, 'blob') });
  } catch (e) {
    throw new UserError('store-io', ioMessage(`store: write blob ${digest}`, e));
  }
  return { digest, size: data.length };
}

const WRITE_AHEAD_BYTES = 4 << 20;
/** Past this many bytes a blob is hashed and written in the store's worker thread (below, a thread's start costs more). */
const THREAD_FROM_BYTES = 4 << 20;

/**
 * A streaming blob writer: hash while writing to a temp file, publish on commit. The first
 * THREAD_FROM_BYTES are held; a blob that grows past them is hashed and written in a worker
 * thread (worker-thread.ts `startBlobThread`), a smaller one here at its end.
 */
export function blobWriter(root: string, opts: { expected?: Digest } = {}): BlobWriter {
  const tmp = tempFilePath(root, 'blob');
  let fh: FileHandle | undefined;
  let done = false;
  let held: Buffer[] = [];
  let heldBytes = 0;
  let thread: ReturnType<typeof startBlobThread> | undefined;
  let result: { digest: Digest; size: number } | undefined;
  const stream = new Writable({
    // Up to this much waits while the previous chunk is written: the producer (a tar
    // writer, a download) keeps working instead of waiting for every write.
    highWaterMark: WRITE_AHEAD_BYTES,
    construct(cb) {
      open(tmp, 'wx', 0o644).then(
        (h) => {
          fh = h;
          cb();
        },
        (e: Error) => cb(e),
      );
    },
    // The chunks that queued while the last write ran go in one batch: a gunzip's or a
    // socket's small chunks must not cost a message or a thread-pool trip each.
    writev(chunks, cb) {
      let buffers = chunks.map((c) => c.chunk as Buffer);
      if (!thread) {
        // Copies: a writer may reuse its buffer once the write is done (the tar writer does).
        held.push(...buffers.map((b) => Buffer.from(b)));
        heldBytes += buffers.reduce((n, b) => n + b.length, 0);
        if (heldBytes < THREAD_FROM_BYTES) return cb();
        thread = startBlobThread(fh!.fd);
        buffers = held;
        held = [];
      }
      for (const b of buffers) thread.sink.write(b);
      if (thread.sink.writableNeedDrain) thread.sink.once('drain', () => cb());
      else cb();
    },
    final(cb) {
      const ended = thread
        ? (thread.sink.end(), thread.done)
        : fh!.writev(held).then(() => {
            const hasher = new DigestHasher();
            for (const b of held) hasher.update(b);
            held = [];
            return { digest: hasher.digest(), size: hasher.sizeBytes };
          });
      ended
        .then((r) => {
          result = r;
          return fh!.close();
        })
        .then(
          () => {
            fh = undefined;
            cb();
          },
          (e: Error) => cb(e),
        );
    },
  });
  const cleanup = async () => {
    done = true;
    // The thread writes to our fd until it is gone: only then is the fd closed.
    if (thread) {
      thread.abort();
      await thread.done.catch(() => undefined);
    }
    if (fh) await fh.close().catch(() => {});
    fh = undefined;
    await rm(tmp, { force: true });
  };
  return {
    stream,
    async commit() {
      if (done) throw new Error('[internal] blob writer used after commit/abort');
      try {
        if (!stream.writableFinished) {
          if (!stream.writableEnded) stream.end();
          await finished(stream);
        }
      } catch (e) {
        await cleanup();
        throw new UserError('store-io', ioMessage('store: write blob', e));
      }
      const { digest, size } = result!;
      if (opts.expected && opts.expected !== digest) {
        await cleanup();
        throw new UserError('digest-mismatch', `store: blob content is ${digest}, expected ${opts.expected}`, {
          where: opts.expected,
        });
      }
      done = true;
      const final = blobPath(root, digest);
      if (await hasBlob(root, digest)) {
        await rm(tmp, { force: true });
        touch(final);
        return { digest, size };
      }
      try {
        await publishFile(tmp, final);
      } catch (e) {
        await rm(tmp, { force: true });
        throw new UserError('store-io', ioMessage(`store: write blob ${digest}`, e));
      }
      return { digest, size };
    },
    async abort() {
      if (done) return;
      stream.destroy();
      await cleanup();
    },
  };
}
