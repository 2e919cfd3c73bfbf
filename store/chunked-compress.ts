import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError, gzipPath } from '../common/index.js';

/**
 * Parallel, deterministic compression of a layer tar: the input is cut into fixed-size
 * chunks (never where the stream's own reads happen to end) and each chunk is compressed on
 * its own, at most `cores` at once, the results written in order. A chunk's bytes depend
 * only on its input and the level, so the output is the same for any core count and any
 * machine with the same libdeflate/libzstd.
 * - gzip: runtime-helper/gzip.c (libdeflate, twice zlib's speed at the same level on layer
 *   tars), one gzip member per 1 MiB chunk, as eStargz layers are a series of members.
 * - zstd: one zstd frame per chunk; a concatenation of frames is a valid zstd stream
 *   (RFC 8878 §3.1), which containerd, skopeo and fzstd read.
 */

export type CompressionAlgorithm = 'gzip' | 'zstd';

export interface CompressionSpec {
  algorithm: CompressionAlgorithm;
  level: number;
}

/** zstd chunks: a fresh frame has no window, so larger chunks keep its ratio. */
const ZSTD_CHUNK_BYTES = 4 << 20;
export const DEFAULT_LEVEL: Record<CompressionAlgorithm, number> = { gzip: 6, zstd: 3 };
export const LEVEL_RANGE: Record<CompressionAlgorithm, [number, number]> = { gzip: [0, 9], zstd: [1, 22] };

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
 * The compressed form of `src` (consumed), chunk by chunk in order, on `cores` threads.
 * Memory: for zstd, the `cores` chunks being compressed and their results; for gzip, the
 * helper's ring of 2×cores+1 slots of ~2 MiB each (a chunk in, its worst-case member out).
 */
export function compressStream(src: Readable, spec: CompressionSpec, opts: { cores: number }): AsyncGenerator<Buffer> {
  const cores = Math.max(1, Math.floor(opts.cores));
  return spec.algorithm === 'gzip' ? gzipped(src, spec.level, cores) : zstdFrames(src, spec.level, cores);
}

/** `src` through tsbuild-gzip, its output as it comes; the helper is stopped if the reader stops. */
async function* gzipped(src: Readable, level: number, cores: number): AsyncGenerator<Buffer> {
  if (!existsSync(gzipPath)) {
    src.destroy();
    throw new UserError('gzip-unavailable', `gzip compression: ${gzipPath} is missing`, {
      hint: 'build it with npm install (it needs libdeflate-dev: apt-get install libdeflate-dev)',
    });
  }
  const child = spawn(gzipPath, [String(level), String(cores)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<string | undefined>((resolve) => {
    child.once('error', (e) => resolve(e.message));
    child.once('close', (code, signal) => resolve(code === 0 ? undefined : stderr.trim() || `exited ${code ?? signal}`));
  });
  // The source's own failure (a missing layer file) is the one to report, not the helper's.
  const fed = pipeline(src, child.stdin).then(
    () => undefined,
    (e: Error) => e,
  );
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) yield chunk;
    const feedError = await fed;
    if (feedError) throw feedError;
    const failed = await exited;
    if (failed !== undefined) throw new Error(`tsbuild-gzip: ${failed}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    src.destroy();
  }
}

/** zstd frames of fixed-size chunks, `cores` compressed at once on libzstd's threads. */
async function* zstdFrames(src: Readable, level: number, cores: number): AsyncGenerator<Buffer> {
  const inFlight: Promise<Buffer>[] = [];
  let any = false;
  for await (const chunk of fixedChunks(src, ZSTD_CHUNK_BYTES)) {
    any = true;
    const work = zstd().compress(chunk, level);
    work.catch(() => undefined); // awaited in order below; a failure must not go unhandled first
    inFlight.push(work);
    if (inFlight.length >= cores) yield await inFlight.shift()!;
  }
  // An empty input is still one valid zstd frame.
  if (!any) inFlight.push(zstd().compress(Buffer.alloc(0), level));
  while (inFlight.length) yield await inFlight.shift()!;
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
