import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { splitRdev, type Digest, type FsEntry, type FsEntryType } from '../common/index.js';
import { TarWriter, type Store } from '../store/index.js';
import { fileBody as readFileBody, type FileBody } from './file-bodies.js';

/**
 * Writes one layer tar into the store with Docker/OCI conventions: entries in walk order
 * (parents before children, names in byte order), every parent directory present, exact
 * uid/gid/mode, empty uname/gname, mtimes in whole seconds clamped to SOURCE_DATE_EPOCH,
 * hardlinks as link entries, xattrs kept, devices as char/block entries. File bytes are
 * streamed from disk; the store hashes while writing, so the blob digest is the diff_id
 * (local layers are kept as uncompressed tar).
 */
export interface LayerEntry {
  /** Path in the layer: no leading or trailing `/`. */
  path: string;
  /** Hardlinks are files with a shared `hardlinkKey`. */
  type: Exclude<FsEntryType, 'hardlink'>;
  /** Permission bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  /** Files: the byte count, and where the bytes come from. */
  size?: number;
  content?: { path: string } | { bytes: Uint8Array };
  linkTarget?: string;
  /** `dev:ino` of a file with several links: later entries with the same key become hardlinks. */
  hardlinkKey?: string;
  /** Devices: st_rdev. */
  rdev?: number;
  xattrs?: Record<string, Buffer>;
  /** An overlay opaque marker (`DIR/.wh..wh..opq`): written right after its directory. */
  isOpaqueMarker?: boolean;
}

export interface LayerResult {
  diffId: Digest;
  /** Bytes of the tar blob. */
  size: number;
  /** Sum of regular file sizes (Docker's image SIZE counts these). */
  contentBytes: number;
  /** Tar entries written (PAX headers not counted). */
  entries: number;
}

export interface LayerWriteOptions {
  /** SOURCE_DATE_EPOCH in seconds: no mtime in the layer is later than this. */
  sourceDateEpoch?: number;
  /** Also send the tar here, and end it after the last byte (it must not fail: see prime-layer.ts). */
  tee?: Writable;
}

/** Sort `entries`, check parents, and stream them as a tar into a new store blob. */
export async function writeLayer(store: Store, entries: LayerEntry[], opts: LayerWriteOptions = {}): Promise<LayerResult> {
  const sorted = sortEntries(entries);
  checkParents(sorted);
  const blob = store.blobWriter();
  // A write error of the blob (ENOSPC, EROFS) surfaces in the writer as a closed output;
  // remember the real cause to report it.
  let blobError: Error | undefined;
  blob.stream.on('error', (e: Error) => {
    blobError ??= e;
  });
  const tar = new TarWriter(blob.stream, opts.tee);
  let contentBytes = 0;
  try {
    const links = hardlinkTargets(sorted);
    for (const [i, e] of sorted.entries()) {
      const header = tarHeader(e, opts);
      const first = links[i];
      if (first !== undefined) {
        await tar.add({ ...header, type: 'hardlink', size: 0, linkTarget: first, xattrs: undefined });
        continue;
      }
      if (e.type === 'file') {
        contentBytes += header.size;
        await tar.add(header, fileBody(e, header.size));
      } else await tar.add(header);
    }
    await tar.finish();
    opts.tee?.end();
    blob.stream.end();
    await finished(blob.stream);
  } catch (err) {
    tar.destroy(err as Error);
    blob.stream.destroy();
    await blob.abort().catch(() => {});
    throw blobError ?? err;
  }
  const { digest, size } = await blob.commit();
  return { diffId: digest, size, contentBytes, entries: tar.entries };
}

function tarHeader(e: LayerEntry, opts: LayerWriteOptions): FsEntry {
  let mtimeSec = Math.floor(e.mtimeMs / 1000);
  if (opts.sourceDateEpoch !== undefined && mtimeSec > opts.sourceDateEpoch) mtimeSec = opts.sourceDateEpoch;
  const h: FsEntry = {
    path: e.path,
    type: e.type,
    mode: e.mode & 0o7777,
    uid: e.uid,
    gid: e.gid,
    mtimeMs: mtimeSec * 1000,
    size: e.type === 'file' ? e.size ?? 0 : 0,
    xattrs: e.xattrs && Object.keys(e.xattrs).length > 0 ? e.xattrs : undefined,
  };
  if (e.type === 'symlink') h.linkTarget = e.linkTarget ?? '';
  if (e.type === 'char' || e.type === 'block') {
    const { major, minor } = splitRdev(e.rdev ?? 0);
    h.devmajor = major;
    h.devminor = minor;
  }
  return h;
}

/** For each entry, the path of the earlier entry it is a hardlink to (same `hardlinkKey`), else undefined. */
function hardlinkTargets(sorted: LayerEntry[]): (string | undefined)[] {
  const firstLink = new Map<string, string>();
  return sorted.map((e) => {
    if (e.type !== 'file' || e.hardlinkKey === undefined) return undefined;
    const first = firstLink.get(e.hardlinkKey);
    if (first === undefined) firstLink.set(e.hardlinkKey, e.path);
    return first;
  });
}

/** The bytes of a file entry: inline bytes, nothing, or the file read from disk. */
function fileBody(e: LayerEntry, size: number): FileBody | Uint8Array {
  if (!e.content) {
    if (size !== 0) throw new Error(`[internal] layer entry ${e.path} has ${size} bytes but no content`);
    return new Uint8Array(0);
  }
  if ('bytes' in e.content) return e.content.bytes;
  if (size === 0) return new Uint8Array(0);
  return readFileBody({ path: e.content.path, size });
}

/**
 * Walk order: a directory, then its opaque marker, then its children by name in byte order
 * (what a filepath.Walk of the tree gives). NUL sorts before every byte a name can hold.
 */
export function sortEntries(entries: LayerEntry[]): LayerEntry[] {
  const keyed = entries.map((e) => {
    const path = e.isOpaqueMarker ? e.path.slice(0, e.path.lastIndexOf('/') + 1) : e.path;
    return { e, key: path.replace(/\//g, '\0') };
  });
  // JavaScript compares strings by UTF-16 code units, which is UTF-8 byte order except
  // between surrogate pairs and U+E000..U+FFFF: only paths with those need bytes.
  if (keyed.some((k) => /[\ud800-\uffff]/.test(k.key))) {
    const bytes = new Map(keyed.map((k) => [k, Buffer.from(k.key)]));
    keyed.sort((a, b) => Buffer.compare(bytes.get(a)!, bytes.get(b)!));
  } else keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.e);
}

/** An empty, `.` or `..` component (a leading or trailing `/` makes an empty one). */
const BAD_COMPONENT = /(?:^|\/)\.{0,2}(?:\/|$)/;

function checkParents(sorted: LayerEntry[]): void {
  const dirs = new Set<string>();
  const seen = new Set<string>();
  for (const e of sorted) {
    if (e.path === '' || BAD_COMPONENT.test(e.path))
      throw new Error(`[internal] bad layer path ${JSON.stringify(e.path)}`);
    if (seen.has(e.path)) throw new Error(`[internal] duplicate layer path ${JSON.stringify(e.path)}`);
    seen.add(e.path);
    const i = e.path.lastIndexOf('/');
    if (i > 0 && !dirs.has(e.path.slice(0, i))) throw new Error(`[internal] layer entry ${e.path} has no parent directory entry`);
    if (e.type === 'dir') dirs.add(e.path);
  }
}
