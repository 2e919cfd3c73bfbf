import type { Writable } from 'node:stream';
import type { FsEntry } from '../common/index.js';
import { encodePax, encodePaxHeader, encodeUstar, maxOctal, splitUstarName } from './tar-format.js';

/**
 * The one tar writer: ustar headers (tar-format.ts), plus PAX records for what ustar cannot
 * hold (long or non-ASCII names and link targets, large ids, binary xattrs as
 * `SCHILY.xattr.*`). The archive is laid out in reused batch buffers, small files read
 * straight into them, so a layer costs no stream machinery or buffer per entry; bytes flow
 * to `out` with backpressure.
 */

const MAX_ID = maxOctal(6); // ustar's id fields: 6 octal digits

const ZEROS = Buffer.alloc(1024);
/** Small pieces are gathered into writes of this size: one write per 512-byte header would cost a syscall each. */
const WRITE_BATCH = 256 * 1024;
/** Room a fill gets beyond its size: it reads one byte more to notice a file that grew. */
const FILL_SLACK = 1;

/** A file body the writer reads itself, into its batch (no buffer per file). */
export interface BodyFill {
  size: number;
  /** Put the `size` bytes at `into[at]`; may write one byte more (the room is there). */
  fill(into: Buffer, at: number): void;
}

export class TarWriter {
  /**
   * Batch buffers: the archive is laid out in one, which is written when full and returns
   * here once `out` (and `tee`) are done with it, so layers make no garbage per file and
   * hold at most the outputs' write-ahead in batches.
   */
  private readonly free: Buffer[] = [];
  private batch = this.take();
  private used = 0;
  private failed: Error | undefined;
  entries = 0;

  /** `tee`, if given, gets the same bytes as `out` (it must not fail: its errors are not watched). */
  constructor(
    private readonly out: Writable,
    private readonly tee?: Writable,
  ) {}

  /**
   * Append one entry (`path`: no leading `/`, no trailing `/`, which is added here for
   * directories; mtime in whole seconds); `body` (files only) is exactly `size` bytes: a
   * fill, bytes, or a stream.
   */
  async add(h: FsEntry, body?: BodyFill | Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    if (this.failed) throw this.failed;
    const name = h.type === 'dir' ? h.path + '/' : h.path;
    const mtimeSec = Math.floor(h.mtimeMs / 1000);
    const pax: [string, Buffer][] = [];
    let ustarName = name;
    if (!splitUstarName(name)) {
      pax.push(['path', Buffer.from(name)]);
      ustarName = asciiFallback(name, h.type === 'dir');
    }
    let linkname = h.linkTarget;
    if (linkname !== undefined && (!isAscii(linkname) || linkname.length > 100)) {
      pax.push(['linkpath', Buffer.from(linkname)]);
      linkname = asciiFallback(linkname, false);
    }
    if (h.uid > MAX_ID) pax.push(['uid', Buffer.from(String(h.uid))]);
    if (h.gid > MAX_ID) pax.push(['gid', Buffer.from(String(h.gid))]);
    for (const key of Object.keys(h.xattrs ?? {}).sort()) pax.push([`SCHILY.xattr.${key}`, h.xattrs![key]]);
    if (pax.length > 0) {
      // The extended header goes as raw blocks before the entry's header.
      const records = encodePax(pax);
      await this.put(encodePaxHeader(paxName(name), records.length, mtimeSec));
      await this.put(records);
      await this.pad(records.length);
    }
    const size = h.type === 'file' ? h.size : 0;
    await this.put(
      encodeUstar({
        name: ustarName,
        type: h.type,
        mode: h.mode,
        uid: Math.min(h.uid, MAX_ID),
        gid: Math.min(h.gid, MAX_ID),
        mtimeSec,
        size,
        linkname,
        devmajor: h.devmajor,
        devminor: h.devminor,
      }),
    );
    this.entries++;
    if (h.type !== 'file' || body === undefined) return;
    let n: number;
    if (body instanceof Uint8Array) {
      n = body.byteLength;
      await this.put(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    } else if ('fill' in body) {
      n = body.size;
      await this.putFill(body);
    } else {
      n = 0;
      await this.flush();
      for await (const chunk of body) {
        n += chunk.byteLength;
        await this.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
    }
    if (n !== size) throw this.fail(new Error(`tar: ${h.path}: ${n} bytes for a ${size}-byte entry`));
    await this.pad(n);
  }

  /** Write the end-of-archive blocks and wait until every byte has been handed to `out`. */
  async finish(): Promise<void> {
    if (this.failed) throw this.failed;
    await this.put(ZEROS);
    await this.flush();
  }

  /** Abandon the archive (an error happened while producing entries). */
  destroy(err: Error): void {
    this.failed ??= err;
    this.used = 0;
  }

  private fail(err: Error): Error {
    this.destroy(err);
    return err;
  }

  /** Zeros up to the next 512-byte block. */
  private pad(size: number): Promise<void> | undefined {
    const rest = size & 511;
    return rest ? this.put(ZEROS.subarray(0, 512 - rest)) : undefined;
  }

  /** Bytes into the batch (copied), or, when larger than a batch, written as they are. */
  private async put(bytes: Buffer): Promise<void> {
    if (bytes.byteLength > WRITE_BATCH) {
      await this.flush();
      return this.write(bytes);
    }
    if (this.used + bytes.byteLength > WRITE_BATCH) await this.flush();
    bytes.copy(this.batch, this.used);
    this.used += bytes.byteLength;
  }

  /** A file read straight into the batch (into a buffer of its own when larger than one). */
  private async putFill(body: BodyFill): Promise<void> {
    if (body.size > WRITE_BATCH) {
      const own = Buffer.allocUnsafe(body.size + FILL_SLACK);
      body.fill(own, 0);
      await this.flush();
      return this.write(own.subarray(0, body.size));
    }
    if (this.used + body.size > WRITE_BATCH) await this.flush();
    body.fill(this.batch, this.used);
    this.used += body.size;
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    const full = this.batch;
    const bytes = full.subarray(0, this.used);
    this.batch = this.take();
    this.used = 0;
    await this.write(bytes, () => this.free.push(full));
  }

  private take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(WRITE_BATCH + FILL_SLACK);
  }

  /**
   * Hands `buf` to `out` (and `tee`), waiting while either is above its high-water mark;
   * `done` runs once both have written it (then `buf` may be reused).
   */
  private async write(buf: Buffer, done?: () => void): Promise<void> {
    if (this.failed) throw this.failed;
    // An output that failed while nothing waited on it never drains: check before writing.
    if (this.out.errored) throw this.fail(this.out.errored);
    let pending = this.tee ? 2 : 1;
    const written = (err?: Error | null) => {
      if (--pending === 0 && !err && done) done();
    };
    const waits: Promise<void>[] = [];
    if (!this.out.write(buf, written)) waits.push(drained(this.out));
    if (this.tee && !this.tee.write(buf, written)) waits.push(drained(this.tee));
    try {
      await Promise.all(waits);
    } catch (e) {
      throw this.fail(e as Error);
    }
  }
}

/** Resolves when `s` drains; rejects when it fails or closes first. */
function drained(s: Writable): Promise<void> {
  if (s.errored) return Promise.reject(s.errored);
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      s.off('drain', onDrain);
      s.off('error', onError);
      s.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (e: Error) => done(e);
    const onClose = () => done(s.errored ?? new Error('the output closed before the archive was written'));
    s.on('drain', onDrain);
    s.on('error', onError);
    s.on('close', onClose);
  });
}

function isAscii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

function asciiFallback(name: string, isDir: boolean): string {
  const a = name.replace(/\/$/, '').replace(/[^\x20-\x7e]/g, '_').slice(0, 99);
  return isDir ? a + '/' : a;
}

function paxName(name: string): string {
  const base = name.replace(/\/$/, '').split('/').pop() ?? 'x';
  return 'PaxHeaders.0/' + asciiFallback(base, false).slice(0, 80);
}
