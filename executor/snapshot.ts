import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { UserError, noteEntries } from '../common/index.js';
import type { Store } from '../store/index.js';
import { readXattrs, type XattrMap } from './copy-xattrs.js';
import { writeLayer, type LayerEntry, type LayerResult } from './layer-writer.js';

/**
 * A directory turned into a layer. For an overlay upper dir (a RUN step's changes): whiteouts
 * (0/0 character devices) become `.wh.NAME`, opaque directories (`trusted.overlay.opaque=y`)
 * become the directory plus `.wh..wh..opq`, and no `trusted.overlay.*` xattr is written.
 * Only the upper dir is walked, so the cost grows with what the step changed, not with the
 * image. An empty directory gives no layer (undefined): a RUN that changed nothing.
 */
export interface SnapshotOptions {
  kind: 'overlay-upper' | 'plain';
  sourceDateEpoch?: number;
  /**
   * Paths (relative, e.g. `proc`, `etc/resolv.conf`) left out with everything below them:
   * the container's mount points, which the runtime may have created in the upper dir.
   */
  omit?: string[];
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const OVERLAY_XATTR = 'trusted.overlay.';

export async function snapshotDir(store: Store, dir: string, opts: SnapshotOptions): Promise<LayerResult | undefined> {
  const root = await realpath(dir);
  const names = await readdir(root);
  if (names.length === 0) return undefined;
  const xattrs = await readXattrs(root, { recursive: true });
  if (!xattrs && opts.kind === 'overlay-upper') {
    throw new UserError('xattr-tools-missing', 'snapshot: reading overlay opaque directories needs getfattr', {
      hint: 'install the Debian package "attr"',
    });
  }
  const entries: LayerEntry[] = [];
  const omit = new Set((opts.omit ?? []).map((p) => p.replace(/^\/+|\/+$/g, '')));
  walk(root, '', names, { root, kind: opts.kind, xattrs: xattrs ?? new Map(), entries, omit });
  if (entries.length === 0) return undefined;
  return writeLayer(store, entries, { sourceDateEpoch: opts.sourceDateEpoch });
}

interface WalkState {
  root: string;
  kind: SnapshotOptions['kind'];
  xattrs: XattrMap;
  entries: LayerEntry[];
  omit: Set<string>;
}

/**
 * Synchronous lstat/readdir/readlink: each takes microseconds, and a trip through libuv's
 * thread pool per entry cost more than the call (50,000 entries).
 */
function walk(absDir: string, relDir: string, names: string[], s: WalkState): void {
  noteEntries(s.entries.length + names.length);
  for (const name of names) {
    const abs = absDir + '/' + name;
    const rel = relDir === '' ? name : relDir + '/' + name;
    if (s.omit.has(rel)) continue;
    if (addEntry(lstatSync(abs), abs, rel, name, relDir, s)) walk(abs, rel, readdirSync(abs), s);
  }
}

/** Adds the layer entries for one path; true when it is a directory to descend into. */
function addEntry(st: Stats, abs: string, rel: string, name: string, relDir: string, s: WalkState): boolean {
  const all = s.xattrs.get(abs);
  const base = { uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777 };
  if (s.kind === 'overlay-upper') {
    if (all?.[OVERLAY_XATTR + 'redirect'] || all?.[OVERLAY_XATTR + 'metacopy']) {
      // redirect_dir/metacopy upper dirs hold only part of the data: the mount must not use them.
      throw new Error(`[internal] snapshot: ${rel} uses overlay redirect/metacopy, which tsbuild does not mount with`);
    }
    if (st.isCharacterDevice() && st.rdev === 0) {
      const path = (relDir === '' ? '' : relDir + '/') + WHITEOUT_PREFIX + name;
      s.entries.push({ ...base, path, type: 'file', mode: 0, uid: 0, gid: 0, size: 0 });
      return false;
    }
  }
  const xattrs = keptXattrs(all);
  if (st.isDirectory()) {
    s.entries.push({ ...base, path: rel, type: 'dir', xattrs });
    if (s.kind === 'overlay-upper' && all?.[OVERLAY_XATTR + 'opaque']?.toString() === 'y') {
      s.entries.push({ ...base, path: rel + '/' + OPAQUE_MARKER, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, isOpaqueMarker: true });
    }
    return true;
  }
  if (st.isFile()) {
    s.entries.push({
      ...base,
      path: rel,
      type: 'file',
      size: st.size,
      content: { path: abs },
      hardlinkKey: st.nlink > 1 ? `${st.dev}:${st.ino}` : undefined,
      xattrs,
    });
  } else if (st.isSymbolicLink()) {
    s.entries.push({ ...base, path: rel, type: 'symlink', linkTarget: readlinkSync(abs), xattrs });
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    s.entries.push({ ...base, path: rel, type: st.isCharacterDevice() ? 'char' : 'block', rdev: st.rdev, xattrs });
  } else if (st.isFIFO()) {
    s.entries.push({ ...base, path: rel, type: 'fifo', xattrs });
  }
  // Sockets cannot be archived (Docker skips them too).
  return false;
}

function keptXattrs(all: Record<string, Buffer> | undefined): Record<string, Buffer> | undefined {
  if (!all) return undefined;
  const kept: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(all)) if (!k.startsWith(OVERLAY_XATTR)) kept[k] = v;
  return Object.keys(kept).length > 0 ? kept : undefined;
}
