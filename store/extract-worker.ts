import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { UserError } from '../common/index.js';
import { unpackSplit, unpackTar } from './layers.js';
import type { FromWorker, ToWorker, WorkerJob } from './worker-thread.js';
import { DETACHED_FLAG, extractLayersDetached } from './extract-detached.js';

/**
 * The worker thread of `store/extract-thread.ts`: the store's one extractor (`unpackTar`),
 * with its writes off the main thread, or the hashing writer of a big blob (`startBlobThread`). Its input is a file it reads itself, or the bytes the
 * main thread posts, acknowledged as the extractor takes them so the sender can hold back.
 * Run as a process with `--extract-layers`, it is the detached extractor of a build's layers
 * (store/extract-detached.ts): the same code in the same bundle, so nothing else is shipped.
 */
const port = parentPort as MessagePort;
const job = workerData as WorkerJob;
const post = (m: FromWorker) => port.postMessage(m, m.kind === 'taken' && m.returned ? [m.returned] : []);

/** What was taken is told in steps of this much (or when nothing is left): a message each costs. */
const TELL_BYTES = 1024 * 1024;

function posted(): Readable {
  const queue: Buffer[] = [];
  let isEnded = false;
  let isWanted = false;
  const src = new Readable({
    read() {
      isWanted = true;
      feed();
    },
  });
  let untold = 0;
  const feed = () => {
    while (isWanted && queue.length > 0) {
      const chunk = queue.shift()!;
      untold += chunk.length;
      if (untold >= TELL_BYTES || queue.length === 0) {
        post({ kind: 'taken', bytes: untold });
        untold = 0;
      }
      isWanted = src.push(chunk);
    }
    if (isWanted && isEnded && queue.length === 0) src.push(null);
  };
  port.on('message', (m: ToWorker) => {
    if (m === null) isEnded = true;
    else queue.push(Buffer.from(m.buffer, m.byteOffset, m.byteLength));
    feed();
  });
  return src;
}

const READ_BYTES = 1024 * 1024;

/** The file in large synchronous reads: this thread has nothing else to do meanwhile. */
function fileChunks(path: string): Readable {
  const fd = openSync(path, 'r');
  let isOpen = true;
  const close = () => {
    if (isOpen) closeSync(fd);
    isOpen = false;
  };
  return new Readable({
    highWaterMark: READ_BYTES,
    read() {
      const b = Buffer.allocUnsafeSlow(READ_BYTES);
      const n = readSync(fd, b, 0, READ_BYTES, null);
      if (n === 0) {
        close();
        this.push(null);
      } else this.push(n < READ_BYTES ? b.subarray(0, n) : b);
    },
    destroy(err, cb) {
      close();
      cb(err);
    },
  });
}

/**
 * The posted bytes, hashed and written to `fd` in order. Each batch is done with when its
 * message is, so it goes back to be filled again (worker-thread.ts keeps the spares).
 */
function writeBlob(fd: number): Promise<FromWorker> {
  const hash = createHash('sha256');
  let size = 0;
  return new Promise((resolve, reject) => {
    port.on('message', (m: ToWorker) => {
      if (m === null) return resolve({ kind: 'done', digest: `sha256:${hash.digest('hex')}`, size });
      try {
        hash.update(m);
        size += m.length;
        for (let at = 0; at < m.length; ) at += writeSync(fd, m, at);
      } catch (e) {
        return reject(e);
      }
      post({ kind: 'taken', bytes: m.length, returned: m.buffer as ArrayBuffer });
    });
  });
}

function unpack(): Promise<FromWorker> {
  if (job.kind === 'blob') throw new Error('[internal] not an unpacking');
  const src = job.file === undefined ? posted() : fileChunks(job.file);
  const unpacked = job.isSplitting ? unpackSplit(src, job.target, job.what) : unpackTar(src, job.target, { what: job.what }).then(() => undefined);
  return unpacked.then((split) => ({ kind: 'done', split }));
}

function runWorker(): void {
  (job.kind === 'blob' ? writeBlob(job.fd) : unpack()).then(
    (done) => post(done),
    (e: unknown) =>
      post({
        kind: 'failed',
        error:
          e instanceof UserError
            ? { code: e.code, message: e.message, where: typeof e.where === 'string' ? e.where : undefined, hint: e.hint }
            : { message: e instanceof Error ? e.message : String(e) },
      }),
  );
}

if (parentPort) runWorker();
else if (process.argv[2] === DETACHED_FLAG) void extractLayersDetached(process.argv.slice(3)).finally(() => process.exit(0));
