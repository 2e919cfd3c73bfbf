import { once } from 'node:events';
import type { Writable } from 'node:stream';
import tarStream from 'tar-stream';
import type { Header, Pack } from 'tar-stream';

type PackHeader = Partial<Header> & { name: string };

/**
 * The one wrapper of tar-stream for writing: ustar headers, plus our own PAX records for what
 * ustar cannot hold (long or non-ASCII names and link targets, large ids, binary xattrs as
 * `SCHILY.xattr.*`, which tar-stream's own PAX encoder would mangle as UTF-8).
 * Bytes flow to `out` with backpressure; nothing is buffered beyond one chunk.
 */
export type TarType = 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';

export interface TarHeader {
  /** Path inside the archive: no leading `/`, no trailing `/` (added here for directories). */
  name: string;
  type: TarType;
  /** Permission bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  mtimeSec: number;
  /** Body size: regular files only. */
  size: number;
  /** Symlink target, or the archive path a hardlink points at. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Buffer>;
}

const TYPE_BITS: Record<TarType, number> = {
  file: 0o100000,
  directory: 0o040000,
  symlink: 0o120000,
  link: 0o100000,
  'character-device': 0o020000,
  'block-device': 0o060000,
  fifo: 0o010000,
};

const MAX_ID = 0o777777; // tar-stream writes ids as 6 octal digits

export class TarWriter {
  private readonly pack = tarStream.pack();
  private readonly pump: Promise<void>;
  entries = 0;

  /** `tee`, if given, gets the same bytes as `out` (it must not fail: its errors are not watched). */
  constructor(out: Writable, tee?: Writable) {
    this.pump = drain(this.pack, out, tee);
    // Errors reach the caller through add()/finish(); an unheard 'error' event would crash.
    this.pump.catch(() => {});
    this.pack.on('error', () => {});
  }

  /** Append one entry; `body` (files only) is a stream or bytes of exactly `size` bytes. */
  async add(h: TarHeader, body?: AsyncIterable<Uint8Array> | Uint8Array): Promise<void> {
    const name = h.type === 'directory' ? h.name + '/' : h.name;
    const pax: [string, Buffer][] = [];
    let ustarName = name;
    if (!fitsUstar(name)) {
      pax.push(['path', Buffer.from(name)]);
      ustarName = asciiFallback(name, h.type === 'directory');
    }
    let linkname = h.linkname;
    if (linkname !== undefined && (!isAscii(linkname) || linkname.length > 100)) {
      pax.push(['linkpath', Buffer.from(linkname)]);
      linkname = asciiFallback(linkname, false);
    }
    if (h.uid > MAX_ID) pax.push(['uid', Buffer.from(String(h.uid))]);
    if (h.gid > MAX_ID) pax.push(['gid', Buffer.from(String(h.gid))]);
    for (const key of Object.keys(h.xattrs ?? {}).sort()) pax.push([`SCHILY.xattr.${key}`, h.xattrs![key]]);
    const mtime = new Date(h.mtimeSec * 1000);
    if (pax.length > 0) {
      // tar-stream refuses a body on a 'pax-header' entry, so the extended header goes in
      // as raw blocks between two entries (add() is sequential: no entry is open here).
      const records = encodePax(pax);
      this.pack.push(paxHeaderBlock(paxName(name), records.length, h.mtimeSec));
      this.pack.push(records);
      const pad = records.length % 512;
      if (pad) this.pack.push(Buffer.alloc(512 - pad));
    }
    const header: PackHeader = {
      name: ustarName,
      type: h.type,
      // tar-stream replaces a mode of 0 by a default: the type bits keep it non-zero.
      mode: TYPE_BITS[h.type] | (h.mode & 0o7777),
      uid: Math.min(h.uid, MAX_ID),
      gid: Math.min(h.gid, MAX_ID),
      uname: '',
      gname: '',
      mtime,
      size: h.type === 'file' ? h.size : 0,
      linkname,
      devmajor: h.devmajor ?? 0,
      devminor: h.devminor ?? 0,
    };
    this.entries++;
    if (h.type !== 'file' || body === undefined || body instanceof Uint8Array) {
      return this.entry(header, body instanceof Uint8Array ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : undefined);
    }
    await new Promise<void>((resolve, reject) => {
      const sink = this.pack.entry(header, (err) => (err ? reject(err) : resolve()));
      sink.on('error', () => {});
      void (async () => {
        try {
          for await (const chunk of body) {
            if (!sink.write(chunk)) await once(sink as unknown as NodeJS.EventEmitter, 'drain');
          }
          sink.end(undefined);
        } catch (e) {
          sink.destroy(e as Error);
          reject(e);
        }
      })();
    });
  }

  /** Write the end-of-archive blocks and wait until every byte has been handed to `out`. */
  async finish(): Promise<void> {
    this.pack.finalize();
    await this.pump;
  }

  /** Abandon the archive (an error happened while producing entries). */
  destroy(err: Error): void {
    this.pack.destroy(err);
  }

  private entry(header: PackHeader, body?: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) this.pack.entry(header, body, cb);
      else this.pack.entry(header, cb);
    });
  }
}

const WRITE_BATCH = 256 * 1024;

/** Moves the archive to `out` in batches: tar-stream pushes 512-byte pieces, one write each would cost a syscall. */
async function drain(pack: Pack, out: Writable, tee: Writable | undefined): Promise<void> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    const buf = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    // An output that failed while nothing waited on it never drains: check before writing.
    if (out.errored) throw out.errored;
    const waits: Promise<void>[] = [];
    if (!out.write(buf)) waits.push(drained(out));
    if (tee && !tee.write(buf)) waits.push(drained(tee));
    await Promise.all(waits);
  };
  for await (const chunk of pack as AsyncIterable<Buffer>) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= WRITE_BATCH) await flush();
  }
  if (pendingBytes > 0) await flush();
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

/** Whether tar-stream can store `name` in ustar name+prefix fields (its own splitting rule). */
function fitsUstar(name: string): boolean {
  if (!isAscii(name)) return false;
  let rest = name;
  let prefix = '';
  while (rest.length > 100) {
    const i = rest.indexOf('/');
    if (i === -1) return false;
    prefix += prefix ? '/' + rest.slice(0, i) : rest.slice(0, i);
    rest = rest.slice(i + 1);
  }
  return rest.length <= 100 && prefix.length <= 155;
}

function asciiFallback(name: string, isDir: boolean): string {
  const a = name.replace(/\/$/, '').replace(/[^\x20-\x7e]/g, '_').slice(0, 99);
  return isDir ? a + '/' : a;
}

function paxName(name: string): string {
  const base = name.replace(/\/$/, '').split('/').pop() ?? 'x';
  return 'PaxHeaders.0/' + asciiFallback(base, false).slice(0, 80);
}

/** A ustar header block of type `x` (PAX extended header) for `size` bytes of records. */
function paxHeaderBlock(name: string, size: number, mtimeSec: number): Buffer {
  const b = Buffer.alloc(512);
  const oct = (v: number, len: number, off: number) => b.write(v.toString(8).padStart(len - 1, '0') + '\0', off, 'ascii');
  b.write(name, 0, 100, 'ascii');
  oct(0o644, 8, 100);
  oct(0, 8, 108);
  oct(0, 8, 116);
  oct(size, 12, 124);
  oct(Math.max(0, mtimeSec), 12, 136);
  b.write('x', 156, 'ascii');
  b.write('ustar\0', 257, 'ascii');
  b.write('00', 263, 'ascii');
  oct(0, 8, 329);
  oct(0, 8, 337);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return b;
}

/** PAX extended header records: `LEN key=value\n`, LEN counting its own digits. */
export function encodePax(records: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const base = Buffer.byteLength(` ${key}=`) + value.length + 1;
    let digits = String(base).length;
    if (String(base + digits).length > digits) digits++;
    parts.push(Buffer.from(`${base + digits} ${key}=`), value, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}
