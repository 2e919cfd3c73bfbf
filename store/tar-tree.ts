import { createReadStream, createWriteStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { join, resolve } from 'node:path';
import { isOverlayXattr, splitRdev, type FsEntry } from '../common/index.js';
import { getXattrs } from './fs-attrs.js';
import { TarWriter } from './tar-write.js';

/**
 * A directory tree as a tar file at `out` (a cache mount's export), or into a stream (a
 * build's `--output type=tar`; the stream is ended): every entry below `dir`, names
 * relative to it and sorted, numeric owners, xattrs, hardlinks as links, devices and fifos;
 * sockets skipped. The tree must not change meanwhile (the caller holds its lock, or a
 * read-only view). `asRootfs`: `dir` is a layer dir or a view of layers, whose overlay
 * whiteouts (0/0 char devices) and overlay's `trusted.overlay.*`/`user.overlay.*` xattrs are not files of the image.
 * `mtimeMs` replaces every entry's time (SOURCE_DATE_EPOCH, as BuildKit's tar exporter).
 */
export async function writeTreeTar(dir: string, out: string | Writable, opts: TreeTarOptions = {}): Promise<void> {
  await writeTar(out, (tar) => addTree(tar, dir, '', opts));
}

export interface TreeTarOptions {
  asRootfs?: boolean;
  mtimeMs?: number;
}

/**
 * Several trees in one tar, each below a directory entry of its `name` (root-owned, 0755,
 * at `mtimeMs` or 0), in name order: BuildKit's tar exporter for a multi-platform build
 * (one `linux_amd64/`… per platform, fsutil.SubDirFS sorting them). A part without `dir`
 * (an image with no layers) is its directory entry alone. The stream is ended.
 */
export async function writeTreesTar(parts: { name: string; dir: string | undefined }[], out: Writable, opts: TreeTarOptions = {}): Promise<void> {
  const sorted = [...parts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  await writeTar(out, async (tar) => {
    for (const p of sorted) {
      await tar.add({ path: p.name, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeMs: opts.mtimeMs ?? 0, size: 0 });
      if (p.dir !== undefined) await addTree(tar, p.dir, p.name, opts);
    }
  });
}

async function writeTar(out: string | Writable, fill: (tar: TarWriter) => Promise<void>): Promise<void> {
  const file = typeof out === 'string' ? createWriteStream(out, { flags: 'wx', mode: 0o600 }) : out;
  const tar = new TarWriter(file);
  try {
    await fill(tar);
    await tar.finish();
    file.end();
    await finished(file);
  } catch (e) {
    tar.destroy(e as Error);
    file.destroy();
    throw e;
  }
}

/** Every entry below `dir`, named below `prefix` (none: relative to `dir`), sorted. */
async function addTree(tar: TarWriter, dir: string, prefix: string, opts: TreeTarOptions): Promise<void> {
  const root = resolve(dir);
  const xattrs = await getXattrs(root, { recursive: true });
  const links = new Map<string, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const name of readdirSync(abs).sort()) {
      const p = join(abs, name);
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(p);
      if (st.isSocket()) continue;
      if (opts.asRootfs && st.isCharacterDevice() && st.rdev === 0) continue;
      const e: FsEntry = { path, type: 'file', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: opts.mtimeMs ?? st.mtimeMs, size: 0, xattrs: imageXattrs(xattrs.get(p), opts.asRootfs) };
      if (st.isDirectory()) {
        await tar.add({ ...e, type: 'dir' });
        await walk(p, path);
      } else if (st.isSymbolicLink()) await tar.add({ ...e, type: 'symlink', linkTarget: readlinkSync(p) });
      else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
        const { major, minor } = splitRdev(st.rdev);
        await tar.add({ ...e, type: st.isFIFO() ? 'fifo' : st.isBlockDevice() ? 'block' : 'char', devmajor: major, devminor: minor });
      } else {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first !== undefined) await tar.add({ ...e, type: 'hardlink', linkTarget: first, xattrs: undefined });
        else {
          if (st.nlink > 1) links.set(key, path);
          await tar.add({ ...e, size: st.size }, st.size === 0 ? new Uint8Array(0) : createReadStream(p, { end: st.size - 1 }));
        }
      }
    }
  };
  await walk(root, prefix);
}

/** The xattrs that belong to the file (without overlay's own markers, for a rootfs). */
function imageXattrs(x: Record<string, Buffer> | undefined, asRootfs: boolean | undefined): Record<string, Buffer> | undefined {
  if (!x || !asRootfs) return x;
  const kept = Object.entries(x).filter(([name]) => !isOverlayXattr(name));
  return kept.length ? Object.fromEntries(kept) : undefined;
}
