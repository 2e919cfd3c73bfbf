import { spawn } from 'node:child_process';
import { Decompress } from 'fzstd';
import { PassThrough, Transform, type Readable } from 'node:stream';
import type { Gunzip } from 'node:zlib';
import { UserError, lazyBuiltin } from '../common/index.js';

const zlib = /* @__PURE__ */ lazyBuiltin<typeof import('node:zlib')>('node:zlib');

/**
 * The uncompressed tar inside a layer or rootfs archive, whatever it was compressed with:
 * decided by the first bytes (magic numbers), not by file names or media types, so a
 * mislabelled layer still reads. gzip (zlib) and zstd (fzstd) in-process; bzip2 and xz,
 * which Node cannot read, through Debian's tools (as `docker import` and ADD accept them),
 * with one clear error when the tool is not installed.
 */

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

export function compressionOf(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** The first chunk of `src`, pushed back so the stream still yields everything. */
async function peek(src: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (b: Buffer) => {
      src.off('readable', onReadable);
      src.off('end', onEnd);
      src.off('error', onError);
      resolve(b);
    };
    const onReadable = () => {
      const chunk = src.read() as Buffer | null;
      if (chunk === null) return;
      src.unshift(chunk);
      done(chunk);
    };
    const onEnd = () => done(Buffer.alloc(0));
    const onError = (e: Error) => {
      src.off('readable', onReadable);
      src.off('end', onEnd);
      reject(e);
    };
    src.on('readable', onReadable);
    src.once('end', onEnd);
    src.once('error', onError);
  });
}

const PACKAGE: Record<'bzip2' | 'xz', string> = { bzip2: 'bzip2', xz: 'xz-utils' };

function throughTool(src: Readable, tool: 'bzip2' | 'xz', what: string): Readable {
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  src.on('error', (e) => out.destroy(e));
  child.stdin.on('error', () => {}); // EPIPE when the tool fails: reported through its exit
  src.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('error', (e) => {
    src.destroy();
    out.destroy(
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? new UserError('decompress-tool-missing', `${what} is ${tool}-compressed, and the program "${tool}" that reads it is not installed`, {
            where: what,
            hint: `install the Debian package "${PACKAGE[tool]}", or recompress it with gzip`,
          })
        : new UserError('decompress', `${what}: ${tool}: ${e.message}`, { where: what }),
    );
  });
  child.on('close', (code) => {
    if (code === 0) out.end();
    else if (code !== null) out.destroy(new UserError('decompress', `${what}: ${tool} -dc failed: ${stderr.trim() || `exit ${code}`}`, { where: what }));
  });
  return out;
}

/** zstd through fzstd, as a stream. */
function unzstd(src: Readable, what: string): Readable {
  const bad = (e: unknown) => new UserError('decompress', `${what}: invalid zstd data: ${(e as Error).message}`, { where: what });
  let push: (chunk: Uint8Array) => void = () => {};
  const d = new Decompress((chunk) => {
    if (chunk.length > 0) push(Buffer.from(chunk)); // fzstd may reuse its buffer
  });
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        d.push(chunk);
      } catch (e) {
        return cb(bad(e));
      }
      cb();
    },
    flush(cb) {
      try {
        d.push(new Uint8Array(0), true);
      } catch (e) {
        return cb(bad(e));
      }
      cb();
    },
  });
  push = (b) => t.push(b);
  src.on('error', (e) => t.destroy(e));
  return src.pipe(t);
}

/** A gunzip for whole layers: 256 KiB out per thread-pool trip, not zlib's 16 KiB (a 400 MB layer is 1,600 trips). */
export function gunzipStream(): Gunzip {
  return zlib().createGunzip({ chunkSize: 256 << 10 });
}

/** The decompressed bytes of `src` (which is consumed); `what` names it in errors. */
export async function decompressed(src: Readable, what = 'the archive'): Promise<{ stream: Readable; compression: Compression }> {
  const compression = compressionOf(await peek(src));
  switch (compression) {
    case 'none':
      return { stream: src, compression };
    case 'gzip': {
      const gunzip = gunzipStream();
      src.on('error', (e) => gunzip.destroy(e));
      return { stream: src.pipe(gunzip), compression };
    }
    case 'bzip2':
    case 'xz':
      return { stream: throughTool(src, compression, what), compression };
    case 'zstd':
      return { stream: unzstd(src, what), compression };
  }
}
