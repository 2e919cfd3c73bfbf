import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { loadTarHeaders } from './tar-headers.js';

/**
 * The one wrapper of tar-stream's extractor. Entries arrive one at a time, in archive
 * order; `onEntry` may consume the body (a stream of exactly `size` bytes) or leave it —
 * unread bodies are drained here before the next entry. PAX `SCHILY.xattr.*` records are
 * returned as raw bytes: tar-stream decodes PAX values as UTF-8, which would corrupt binary
 * xattrs such as `security.capability`, so its decoder is wrapped to keep the raw record
 * bytes beside its result (under a private symbol; its own string values are unchanged).
 */

export type TarEntryType = 'file' | 'link' | 'symlink' | 'directory' | 'character-device' | 'block-device' | 'fifo' | 'other';

export interface TarEntry {
  /** The name as written in the archive (not cleaned). */
  name: string;
  type: TarEntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer>;
}

const RAW_PAX = Symbol('tsbuild.rawPax');

type PaxDecoder = (buf: Buffer) => Record<string, string>;
const tarHeaders = loadTarHeaders() as {
  decodePax: PaxDecoder & { [RAW_PAX]?: true };
};
if (!tarHeaders.decodePax[RAW_PAX]) {
  const original = tarHeaders.decodePax;
  const wrapped = ((buf: Buffer) => {
    const result = original(buf);
    Object.defineProperty(result, RAW_PAX, { value: rawXattrs(buf), enumerable: false });
    return result;
  }) as PaxDecoder & { [RAW_PAX]?: true };
  wrapped[RAW_PAX] = true;
  tarHeaders.decodePax = wrapped;
}

/** `SCHILY.xattr.KEY=VALUE` records of a PAX body, values as raw bytes. */
function rawXattrs(buf: Buffer): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  let rest = buf;
  while (rest.length > 0) {
    const sp = rest.indexOf(0x20);
    if (sp <= 0) break;
    const len = parseInt(rest.subarray(0, sp).toString('latin1'), 10);
    if (!len || len > rest.length) break;
    const record = rest.subarray(sp + 1, len - 1); // without the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq > 0) {
      const key = record.subarray(0, eq).toString('utf8');
      if (key.startsWith('SCHILY.xattr.')) out[key.slice('SCHILY.xattr.'.length)] = Buffer.from(record.subarray(eq + 1));
    }
    rest = rest.subarray(len);
  }
  return out;
}

function entryType(t: string): TarEntryType {
  switch (t) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'link':
    case 'symlink':
    case 'directory':
    case 'character-device':
    case 'block-device':
    case 'fifo':
      return t;
    default:
      return 'other';
  }
}

/** Read the tar archive `src` entry by entry; resolves when the archive ends. */
export async function readTar(src: Readable, onEntry: (entry: TarEntry, body: Readable) => Promise<void>): Promise<void> {
  const extract = tarStream.extract();
  src.on('error', (e) => extract.destroy(e));
  src.pipe(extract as unknown as NodeJS.WritableStream);
  for await (const body of extract) {
    const h = body.header;
    const pax = (h.pax ?? {}) as Record<string | symbol, unknown>;
    const entry: TarEntry = {
      name: h.name,
      type: entryType(h.type),
      size: h.size ?? 0,
      mode: (h.mode ?? 0) & 0o7777,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      mtimeMs: h.mtime ? h.mtime.getTime() : 0,
      linkname: h.linkname ?? '',
      devmajor: h.devmajor ?? 0,
      devminor: h.devminor ?? 0,
      xattrs: (pax[RAW_PAX] as Record<string, Buffer> | undefined) ?? {},
    };
    const stream = body as unknown as Readable;
    await onEntry(entry, stream);
    if (!stream.readableEnded) for await (const _ of stream) void _;
  }
}
