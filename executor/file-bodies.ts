import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { UserError } from '../common/index.js';
import type { BodyFill } from '../store/index.js';

/**
 * The bytes of a layer's file entries. Files up to 1 MiB are read whole, straight into the
 * tar writer's batch, with synchronous open/read/close: each asynchronous call is a round
 * trip through libuv's thread pool, and for thousands of small files those round trips, not
 * the reads, are the cost (bench/RESULTS.md, "Measurements behind the code"). The files were just read for the
 * step's cache key, so they come from the page cache and one read blocks for microseconds.
 * Larger files are streamed.
 */
export interface FileSource {
  path: string;
  /** The size the entry was planned with: a file that changed size fails the layer. */
  size: number;
}

export type FileBody = BodyFill | AsyncIterable<Buffer>;

/** Files up to this size are read whole, synchronously; larger ones are streamed. */
const READ_WHOLE_BYTES = 1 << 20;

/** The bytes of `src`: exactly its planned size, or a layer-source-changed error. */
export function fileBody(src: FileSource): FileBody {
  if (src.size <= READ_WHOLE_BYTES) return { size: src.size, fill: (into, at) => readInto(src, into, at) };
  return exactly(createReadStream(src.path, { start: 0, end: src.size - 1 }), src.size, src.path);
}

/**
 * Read `src` into `into` at `at` (the tar writer's batch: no buffer per file). One byte more
 * than planned is asked for, so a file that grew is caught too: `into` has room for it.
 */
function readInto(src: FileSource, into: Buffer, at: number): void {
  let fd: number;
  try {
    fd = openSync(src.path, 'r');
  } catch (e) {
    throw changed(src.path, (e as NodeJS.ErrnoException).code ?? String(e));
  }
  try {
    const end = at + src.size + 1;
    let got = 0;
    for (;;) {
      const n = readSync(fd, into, at + got, end - at - got, got);
      if (n === 0) break;
      got += n;
      if (at + got === end) break;
    }
    if (got !== src.size) throw changed(src.path, `size changed from ${src.size} to ${got > src.size ? 'more' : got}`);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw changed(src.path, (e as NodeJS.ErrnoException).code ?? String(e));
  } finally {
    closeSync(fd);
  }
}

async function* exactly(src: AsyncIterable<Buffer>, size: number, path: string): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of src) {
    n += chunk.length;
    yield chunk;
  }
  if (n !== size) throw changed(path, `size changed from ${size} to ${n}`);
}

function changed(path: string, why: string): UserError {
  return new UserError('layer-source-changed', `write layer: ${path} changed while it was archived: ${why}`, { where: path });
}
