import { UserError, type FsEntry } from '../common/index.js';
import { BLOCK, decodePax, decodeUstar, isZeroBlock, typeOfFlag } from './tar-format.js';

/**
 * The one tar reader: ustar, PAX (path, linkpath, size, uid, gid, mtime and SCHILY.xattr.*
 * with values kept as raw bytes) and GNU long names. Entries arrive one at a time, in archive
 * order; `onEntry` may consume the body (exactly `size` bytes, as they arrive from `src`) or
 * leave it, and what it leaves is skipped here. After the end-of-archive block the rest of
 * `src` is read too, so a caller hashing the stream hashes all of it. A damaged or hostile
 * archive is one UserError naming `what`; `path` is the name as written (not cleaned).
 */
export type TarEntry = FsEntry & { linkTarget: string; devmajor: number; devminor: number; xattrs: Record<string, Buffer> };

export interface TarBody extends AsyncIterable<Buffer> {
  /** The whole body, as the chunks it arrived in (for small files: no copy, and mostly no wait). */
  whole(): Promise<Buffer[]>;
  /**
   * With `split`: the body is kept at `rel` (the extracted file), so its bytes are not
   * recorded; call before reading it. Without this call a body is recorded inline.
   */
  keptAt(rel: string): void;
}

/**
 * Receives an archive as tar-split does (store/tar-split.ts): every byte read, in order,
 * except the bodies a reader keeps elsewhere, which arrive as references.
 */
export interface TarSplitSink {
  raw(bytes: Buffer): void;
  body(rel: string, size: number): void;
}

export interface ReadTarOptions {
  /** The archive as messages name it: `layer sha256:…`, `ADD app.tar`. */
  what?: string;
  /** Record the archive's bytes (headers, padding, bodies not kept elsewhere) here. */
  split?: TarSplitSink;
}

/** Read the tar archive `src` entry by entry; resolves when the archive ends. */
export async function readTar(
  src: AsyncIterable<Uint8Array>,
  onEntry: (entry: TarEntry, body: TarBody) => Promise<void>,
  opts: ReadTarOptions = {},
): Promise<void> {
  const it = src[Symbol.asyncIterator]();
  try {
    await readEntries(new Input(it, opts.split), onEntry, opts.what ?? 'tar archive');
  } catch (e) {
    await it.return?.(); // a Readable's iterator destroys the stream: nothing reads it further
    throw e;
  }
}

async function readEntries(input: Input, onEntry: (entry: TarEntry, body: TarBody) => Promise<void>, what: string): Promise<void> {
  const bad = (why: string) =>
    new UserError('tar-invalid', `${what}: ${why}`, { where: what, hint: 'the archive is damaged, truncated or not a tar' });
  let globalPax = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const offset = input.offset;
    const block = await input.take(BLOCK);
    if (block.length === 0) {
      if (pax || longName !== undefined || longLink !== undefined) throw bad('it ends after an extended header, before its entry');
      return; // no end-of-archive blocks: accepted, as Docker and GNU tar do
    }
    if (block.length < BLOCK) throw bad(`it ends inside a header at byte ${offset}`);
    if (isZeroBlock(block)) {
      await input.drain();
      return;
    }
    const h = decodeUstar(block);
    if (h === 'checksum') throw bad(`no valid tar header at byte ${offset} (checksum mismatch)`);
    if (h === 'number') throw bad(`the header at byte ${offset} has a malformed numeric field`);
    const size = h.flag === 'x' || h.flag === 'g' || h.flag === 'L' || h.flag === 'K' ? h.size : overrideNumber(pax, 'size', h.size);
    if (!Number.isSafeInteger(size) || size < 0) throw bad(`entry ${JSON.stringify(h.name)} has an impossible size (${h.size})`);
    const meta = async (): Promise<Buffer> => {
      if (size > META_LIMIT) throw bad(`an extended header of ${size} bytes at byte ${offset} is too large`);
      const body = await input.take(size);
      if (body.length < size) throw bad(`it ends inside the extended header at byte ${offset}`);
      await skipPadding(size);
      return body;
    };
    const skipPadding = async (n: number) => {
      const pad = (BLOCK - (n % BLOCK)) % BLOCK;
      if ((await input.skip(pad)) < pad) throw bad(`it ends inside the padding of the entry at byte ${offset}`);
    };
    switch (h.flag) {
      case 'x':
      case 'g': {
        const records = decodePax(await meta());
        if (!records) throw bad(`the PAX header at byte ${offset} is malformed`);
        if (h.flag === 'g') globalPax = new Map([...globalPax, ...records]);
        else pax = new Map([...(pax ?? []), ...records]);
        continue;
      }
      case 'L':
        longName = cString(await meta());
        continue;
      case 'K':
        longLink = cString(await meta());
        continue;
    }
    const records = pax === undefined ? globalPax : globalPax.size === 0 ? pax : new Map([...globalPax, ...pax]);
    const name = records.get('path')?.toString('utf8') ?? longName ?? h.name;
    const linkTarget = records.get('linkpath')?.toString('utf8') ?? longLink ?? h.linkname;
    pax = undefined;
    longName = longLink = undefined;
    const type = typeOfFlag(h.flag, name);
    // Only files (and types we do not know) have a body: a size on a link or directory
    // header is ignored, as Go's archive/tar (Docker's reader) ignores it.
    const bodySize = type === 'file' || type === undefined ? size : 0;
    if (type !== undefined) {
      const uid = overrideNumber(records, 'uid', h.uid);
      const gid = overrideNumber(records, 'gid', h.gid);
      const mtimeSec = overrideNumber(records, 'mtime', h.mtimeSec);
      for (const [k, n] of [['uid', uid], ['gid', gid], ['mtime', mtimeSec]] as const) {
        if (!Number.isFinite(n) || (k !== 'mtime' && (n < 0 || n > 0xffffffff))) throw bad(`entry ${JSON.stringify(name)} has an impossible ${k}`);
      }
      const xattrs: Record<string, Buffer> = {};
      for (const [k, v] of records) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = Buffer.from(v);
      const entry: TarEntry = {
        path: name,
        type,
        size: bodySize,
        mode: h.mode & 0o7777,
        uid,
        gid,
        mtimeMs: Math.round(mtimeSec * 1000),
        linkTarget,
        devmajor: h.devmajor,
        devminor: h.devminor,
        xattrs,
      };
      const body = new Body(input, bodySize, () => bad(`it ends inside the body of ${JSON.stringify(name)}`));
      try {
        await onEntry(entry, body);
      } finally {
        body.closed = true;
      }
      if (body.remaining > 0 && (await input.skip(body.remaining)) < body.remaining) throw bad(`it ends inside the body of ${JSON.stringify(name)}`);
      input.isRecording = true;
    } else if ((await input.skip(bodySize)) < bodySize) throw bad(`it ends inside the body of ${JSON.stringify(name)}`);
    await skipPadding(bodySize);
  }
}

const EMPTY = Buffer.alloc(0);

/** Extended headers and GNU long names are held in memory: no real one comes near this. */
const META_LIMIT = 1 << 20;

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString('utf8', 0, end === -1 ? b.length : end);
}

/** A numeric PAX record (decimal, perhaps with a fraction for mtime) instead of the header's field. */
function overrideNumber(records: Map<string, Buffer> | undefined, key: string, fallback: number): number {
  const v = records?.get(key);
  if (v === undefined) return fallback;
  const s = v.toString('latin1');
  return /^-?[0-9]+(\.[0-9]+)?$/.test(s) ? Number(s) : NaN;
}

/** One entry's body: the next `remaining` bytes of the input, as they arrive. */
class Body implements TarBody {
  closed = false;
  constructor(
    private readonly input: Input,
    public remaining: number,
    private readonly truncated: () => Error,
  ) {}

  keptAt(rel: string): void {
    if (!this.input.split || this.remaining === 0) return;
    this.input.split.body(rel, this.remaining);
    this.input.isRecording = false;
  }

  async whole(): Promise<Buffer[]> {
    const first = this.remaining > 0 && !this.closed ? this.input.nextNow(this.remaining) : EMPTY;
    this.remaining -= first.length;
    const chunks = [first];
    if (this.remaining === 0 || this.closed) return chunks; // the usual case: no await per file
    for await (const chunk of this) chunks.push(chunk);
    return chunks;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    while (this.remaining > 0 && !this.closed) {
      const chunk = await this.input.next(this.remaining);
      if (chunk.length === 0) throw this.truncated();
      this.remaining -= chunk.length;
      yield chunk;
    }
  }
}

/** The source's chunks, with what the last read left over. */
class Input {
  private chunk: Buffer = Buffer.alloc(0);
  private done = false;
  offset = 0;
  /** False while a body kept elsewhere is read (`TarBody.keptAt`). */
  isRecording = true;

  constructor(
    private readonly it: AsyncIterator<Uint8Array>,
    readonly split?: TarSplitSink,
  ) {}

  private async fill(): Promise<boolean> {
    while (this.chunk.length === 0) {
      if (this.done) return false;
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return false;
      }
      this.chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    }
    return true;
  }

  /** Up to `max` bytes of what has arrived already (perhaps none), without copying or waiting. */
  nextNow(max: number): Buffer {
    const n = Math.min(max, this.chunk.length);
    const out = this.chunk.subarray(0, n);
    this.chunk = this.chunk.subarray(n);
    this.offset += n;
    if (this.split && this.isRecording && n > 0) this.split.raw(out);
    return out;
  }

  /** Up to `max` bytes (at least one unless the input ended), without copying. */
  async next(max: number): Promise<Buffer> {
    if (!(await this.fill())) return Buffer.alloc(0);
    const n = Math.min(max, this.chunk.length);
    const out = this.chunk.subarray(0, n);
    this.chunk = this.chunk.subarray(n);
    this.offset += n;
    if (this.split && this.isRecording) this.split.raw(out);
    return out;
  }

  /** Exactly `n` bytes, or fewer when the input ends first. */
  async take(n: number): Promise<Buffer> {
    const first = await this.next(n);
    if (first.length === n || first.length === 0) return first;
    const parts = [first];
    let have = first.length;
    while (have < n) {
      const c = await this.next(n - have);
      if (c.length === 0) break;
      parts.push(c);
      have += c.length;
    }
    return Buffer.concat(parts, have);
  }

  /** Skip `n` bytes; returns how many there were. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const c = await this.next(left);
      if (c.length === 0) break;
      left -= c.length;
    }
    return n - left;
  }

  /** Read the input to its end. */
  async drain(): Promise<void> {
    while ((await this.next(Infinity)).length > 0);
  }
}
