import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { constants, crc32, deflateRaw } from 'node:zlib';
import { UserError } from '../common/index.js';

/**
 * Parallel, deterministic compression of a layer tar: the input is cut into fixed-size
 * chunks (never where the stream's own reads happen to end), each chunk is compressed on its
 * own on libuv's thread pool, at most `cores` at once, and the results are written in order.
 * A chunk's bytes depend only on its input, its predecessor's tail and the level, so the
 * output is the same for any core count and any machine with the same zlib/zstd.
 * - gzip: one member, pigz's layout — each chunk is raw deflate primed with the previous
 *   chunk's last 32 KiB (the window) and ended with a sync flush (byte-aligned, no final
 *   bit), the last one with Z_FINISH; one header, one CRC32 and size trailer.
 * - zstd: one zstd frame per chunk; a concatenation of frames is a valid zstd stream
 *   (RFC 8878 §3.1), which containerd, skopeo and fzstd read.
 */

export type CompressionAlgorithm = 'gzip' | 'zstd';

export interface CompressionSpec {
  algorithm: CompressionAlgorithm;
  level: number;
}

/** gzip chunks: large enough that the restart costs little ratio, small enough to spread. */
const GZIP_CHUNK_BYTES = 1 << 20;
/** zstd chunks: a fresh frame has no window, so larger chunks keep its ratio. */
const ZSTD_CHUNK_BYTES = 4 << 20;
const WINDOW_BYTES = 32 << 10;

export const DEFAULT_LEVEL: Record<CompressionAlgorithm, number> = { gzip: 6, zstd: 3 };
export const LEVEL_RANGE: Record<CompressionAlgorithm, [number, number]> = { gzip: [0, 9], zstd: [1, 22] };

/** zlib's header byte XFL: 2 for the slowest level, 4 for the fastest (RFC 1952 §2.3.1). */
function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  // No name, no mtime (0): only the level and the OS byte (3, Unix) vary, and those are fixed.
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
}

function deflateChunk(chunk: Buffer, prev: Buffer | undefined, level: number, isLast: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    deflateRaw(
      chunk,
      {
        level,
        windowBits: 15,
        memLevel: 8,
        strategy: constants.Z_DEFAULT_STRATEGY,
        finishFlush: isLast ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
        ...(prev ? { dictionary: prev.subarray(Math.max(0, prev.length - WINDOW_BYTES)) } : {}),
      },
      (e, out) => (e ? reject(e) : resolve(out)),
    );
  });
}

interface ZstdBinding {
  compress(data: Buffer, level?: number): Promise<Buffer>;
}
let zstdBinding: ZstdBinding | undefined;

/** @mongodb-js/zstd (libzstd through napi-rs, prebuilt in the npm package): loaded on first use only. */
function zstd(): ZstdBinding {
  if (!zstdBinding) {
    try {
      zstdBinding = createRequire(import.meta.url)('@mongodb-js/zstd') as ZstdBinding;
    } catch (e) {
      throw new UserError('zstd-unavailable', `zstd compression: cannot load @mongodb-js/zstd: ${(e as Error).message.split('\n')[0]}`, {
        hint: 'reinstall tsbuild with its dependencies (npm install), or use --compression gzip',
      });
    }
  }
  return zstdBinding;
}

/** Fixed-size chunks of `src`, whatever sizes its reads come in. */
async function* fixedChunks(src: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (const piece of src as AsyncIterable<Buffer>) {
    let buf = piece;
    while (held + buf.length >= size) {
      const take = size - held;
      parts.push(buf.subarray(0, take));
      yield Buffer.concat(parts, size);
      buf = buf.subarray(take);
      parts = [];
      held = 0;
    }
    if (buf.length) {
      parts.push(buf);
      held += buf.length;
    }
  }
  if (held > 0) yield Buffer.concat(parts, held);
}

/**
 * The compressed form of `src` (consumed), chunk by chunk in order. At most `cores` chunks
 * are compressed at once; only they and their results are held in memory.
 */
export async function* compressStream(src: Readable, spec: CompressionSpec, opts: { cores: number }): AsyncGenerator<Buffer> {
  const cores = Math.max(1, Math.floor(opts.cores));
  const size = spec.algorithm === 'gzip' ? GZIP_CHUNK_BYTES : ZSTD_CHUNK_BYTES;
  const compressOne =
    spec.algorithm === 'gzip'
      ? (c: Buffer, prev: Buffer | undefined, isLast: boolean) => deflateChunk(c, prev, spec.level, isLast)
      : (c: Buffer) => zstd().compress(c, spec.level);
  let crc = 0;
  let total = 0;
  if (spec.algorithm === 'gzip') yield gzipHeader(spec.level);
  const inFlight: Promise<Buffer>[] = [];
  const chunks = fixedChunks(src, size);
  // One chunk is read ahead: whether a chunk is the last decides how gzip ends it.
  let prev: Buffer | undefined;
  let next = await chunks.next();
  if (next.done) {
    // An empty input is still one valid gzip member or zstd frame.
    inFlight.push(compressOne(Buffer.alloc(0), undefined, true));
  }
  while (!next.done) {
    const chunk = next.value;
    next = await chunks.next();
    crc = crc32(chunk, crc);
    total += chunk.length;
    const work = compressOne(chunk, prev, next.done === true);
    work.catch(() => undefined); // awaited in order below; a failure must not go unhandled first
    inFlight.push(work);
    prev = chunk;
    if (inFlight.length >= cores) yield await inFlight.shift()!;
  }
  while (inFlight.length) yield await inFlight.shift()!;
  if (spec.algorithm === 'gzip') {
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(total % 2 ** 32, 4);
    yield trailer;
  }
}

/** How an export (push, save, an oci output) compresses layers: BuildKit's compression attributes. */
export interface ExportCompression {
  /** `uncompressed` writes the tar as stored. */
  algorithm: CompressionAlgorithm | 'uncompressed';
  level: number;
  /** Compress again a layer that is stored or known compressed that way already (force-compression). */
  isForced: boolean;
  /** Chunks compressed at once; the bytes are the same for any value. */
  cores: number;
}

/** gzip at its default level, as `docker push` and BuildKit write layers. */
export function defaultExportCompression(cores: number): ExportCompression {
  return { algorithm: 'gzip', level: DEFAULT_LEVEL.gzip, isForced: false, cores };
}
