import { lstatSync, readFileSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { isOverlayXattr, noteEntries, overlayXattrPrefix } from '../common/index.js';
import type { Store } from '../store/index.js';
import { readXattrs, type XattrMap } from './copy-xattrs.js';
import { writeLayer, type LayerEntry, type LayerResult } from './layer-writer.js';

/**
 * A directory turned into a layer. For an overlay upper dir (a RUN step's changes): whiteouts
 * (0/0 character devices) become `.wh.NAME`, opaque directories (`trusted.overlay.opaque=y`,
 * `user.overlay.opaque=y` in a user namespace) become the directory plus `.wh..wh..opq`, and
 * no overlay xattr of either kind is written.
 * Only the upper dir is walked, so the cost grows with what the step changed, not with the
 * image. An empty directory gives no layer (undefined): a RUN that changed nothing.
 * A RUN step's runtime helper lists the upper dir, stats and xattrs, when its command ends
 * (runtime-helper/tree.c): read here instead of an lstat per entry and a second walk for
 * xattrs, several times faster on a big upper dir; without that listing the dir is walked.
 */
export interface SnapshotOptions {
  kind: 'overlay-upper' | 'plain';
  sourceDateEpoch?: number;
  /**
   * Paths (relative, e.g. `proc`, `etc/resolv.conf`) left out with everything below them:
   * the container's mount points, which the runtime may have created in the upper dir.
   */
  omit?: string[];
  /**
   * The runtime helper's listing of `dir` (runtime-helper/tree.c), made when the command
   * ended: used instead of an lstat per entry and a second walk for xattrs when it is complete.
   */
  treeFile?: string;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
/** The marks this process's overlay mounts write (user.overlay.* in a user namespace). */
const OVERLAY_XATTR = overlayXattrPrefix;

/** A snapshot's layer, with the xattrs read on the way (by absolute path under `root`, the dir's real path). */
export interface Snapshot extends LayerResult {
  root: string;
  xattrs: XattrMap;
}

export async function snapshotDir(store: Store, dir: string, opts: SnapshotOptions): Promise<Snapshot | undefined> {
  const root = await realpath(dir);
  const omit = new Set((opts.omit ?? []).map((p) => p.replace(/^\/+|\/+$/g, '')));
  const entries: LayerEntry[] = [];
  const tree = opts.treeFile ? readTree(opts.treeFile, root) : undefined;
  let xattrs: XattrMap;
  if (tree) {
    xattrs = tree.xattrs;
    const s: WalkState = { root, kind: opts.kind, xattrs, entries, omit };
    for (const [rel, st] of tree.items) {
      if (isOmitted(rel, omit)) continue;
      const slash = rel.lastIndexOf('/');
      addEntry(st, root + '/' + rel, rel, rel.slice(slash + 1), slash < 0 ? '' : rel.slice(0, slash), s);
    }
  } else {
    const names = await readdir(root);
    if (names.length === 0) return undefined;
    xattrs = await readXattrs(root, { recursive: true });
    walk(root, '', names, { root, kind: opts.kind, xattrs, entries, omit });
  }
  if (entries.length === 0) return undefined;
  return { ...(await writeLayer(store, entries, { sourceDateEpoch: opts.sourceDateEpoch })), root, xattrs };
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

/** What addEntry reads of an entry: an lstat, or a line of the helper's listing. */
type EntryStat = Pick<Stats, 'uid' | 'gid' | 'mtimeMs' | 'mode' | 'rdev' | 'size' | 'nlink' | 'dev' | 'ino'> &
  Pick<Stats, 'isDirectory' | 'isFile' | 'isSymbolicLink' | 'isCharacterDevice' | 'isBlockDevice' | 'isFIFO'> & { linkTarget?: string };

/** Adds the layer entries for one path; true when it is a directory to descend into. */
function addEntry(st: EntryStat, abs: string, rel: string, name: string, relDir: string, s: WalkState): boolean {
  const all = s.xattrs.get(abs);
  // Objects are written out whole (no spread of a common base): this runs once per entry.
  const mode = st.mode & 0o7777;
  if (s.kind === 'overlay-upper') {
    if (all?.[OVERLAY_XATTR + 'redirect'] || all?.[OVERLAY_XATTR + 'metacopy']) {
      // redirect_dir/metacopy upper dirs hold only part of the data: the mount must not use them.
      throw new Error(`[internal] snapshot: ${rel} uses overlay redirect/metacopy, which tsbuild does not mount with`);
    }
    if (st.isCharacterDevice() && st.rdev === 0) {
      const path = (relDir === '' ? '' : relDir + '/') + WHITEOUT_PREFIX + name;
      s.entries.push({ path, type: 'file', mode: 0, uid: 0, gid: 0, mtimeMs: st.mtimeMs, size: 0 });
      return false;
    }
  }
  const xattrs = all && keptXattrs(all);
  if (st.isDirectory()) {
    s.entries.push({ path: rel, type: 'dir', mode, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs, xattrs });
    if (s.kind === 'overlay-upper' && all?.[OVERLAY_XATTR + 'opaque']?.toString() === 'y') {
      const path = rel + '/' + OPAQUE_MARKER;
      s.entries.push({ path, type: 'file', mode: 0, uid: 0, gid: 0, mtimeMs: st.mtimeMs, size: 0, isOpaqueMarker: true });
    }
    return true;
  }
  const e: LayerEntry = { path: rel, type: 'file', mode, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs, xattrs };
  if (st.isFile()) {
    e.size = st.size;
    e.content = { path: abs };
    if (st.nlink > 1) e.hardlinkKey = `${st.dev}:${st.ino}`;
  } else if (st.isSymbolicLink()) {
    e.type = 'symlink';
    e.linkTarget = st.linkTarget ?? readlinkSync(abs);
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    e.type = st.isCharacterDevice() ? 'char' : 'block';
    e.rdev = st.rdev;
  } else if (st.isFIFO()) {
    e.type = 'fifo';
  } else {
    return false; // Sockets cannot be archived (Docker skips them too).
  }
  s.entries.push(e);
  return false;
}

function keptXattrs(all: Record<string, Buffer> | undefined): Record<string, Buffer> | undefined {
  if (!all) return undefined;
  const kept: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(all)) if (!isOverlayXattr(k)) kept[k] = v;
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/** `rel` or a directory above it is in `omit`. */
function isOmitted(rel: string, omit: Set<string>): boolean {
  if (omit.size === 0) return false;
  for (let i = rel.indexOf('/'); i >= 0; i = rel.indexOf('/', i + 1)) if (omit.has(rel.slice(0, i))) return true;
  return omit.has(rel);
}

const TREE_MAGIC = 'tsbuild-tree-1';
const S_IFMT = 0o170000;

/** One entry of the helper's listing, read like a Stats. */
class TreeStat implements EntryStat {
  constructor(
    readonly mode: number,
    readonly uid: number,
    readonly gid: number,
    readonly size: number,
    readonly mtimeMs: number,
    readonly nlink: number,
    readonly dev: number,
    readonly ino: number,
    readonly rdev: number,
    public linkTarget: string | undefined,
  ) {}
  isDirectory() { return (this.mode & S_IFMT) === 0o040000; }
  isFile() { return (this.mode & S_IFMT) === 0o100000; }
  isSymbolicLink() { return (this.mode & S_IFMT) === 0o120000; }
  isCharacterDevice() { return (this.mode & S_IFMT) === 0o020000; }
  isBlockDevice() { return (this.mode & S_IFMT) === 0o060000; }
  isFIFO() { return (this.mode & S_IFMT) === 0o010000; }
}

/**
 * The helper's listing (format in runtime-helper/tree.c): entries by relative path and their
 * xattrs by absolute path under `root`. Undefined when missing or unfinished.
 */
function readTree(file: string, root: string): { items: [string, TreeStat][]; xattrs: XattrMap } | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return undefined;
  }
  const tail = Buffer.from('\0end\0');
  if (!buf.subarray(0, TREE_MAGIC.length + 1).equals(Buffer.from(TREE_MAGIC + '\0')) || !buf.subarray(buf.length - tail.length).equals(tail)) {
    return undefined;
  }
  noteEntries(buf.length / 60);
  // Fields are read in place: numbers digit by digit, strings only for paths, link
  // targets and xattrs (50,000 entries would otherwise make 650,000 strings).
  const end = buf.length - tail.length + 1;
  let p = TREE_MAGIC.length + 1;
  const str = (): string => {
    const e = buf.indexOf(0, p);
    const s = buf.toString('utf8', p, e);
    p = e + 1;
    return s;
  };
  const num = (): number => {
    const negative = buf[p] === 45; // '-': a time before 1970
    if (negative) p++;
    let v = 0;
    for (let c = buf[p++]; c !== 0; c = buf[p++]) v = v * 10 + (c - 48);
    return negative ? -v : v;
  };
  const items: [string, TreeStat][] = [];
  const xattrs: XattrMap = new Map();
  while (p < end) {
    const rel = str();
    const mode = num();
    const uid = num();
    const gid = num();
    const size = num();
    const mtimeMs = num() * 1e3 + num() / 1e6;
    const st = new TreeStat(mode, uid, gid, size, mtimeMs, num(), num(), num(), num(), undefined);
    if (buf[p] === 0) p++;
    else st.linkTarget = str();
    const n = num();
    if (n > 0) {
      const xs: Record<string, Buffer> = {};
      for (let k = 0; k < n; k++) {
        const name = str();
        const e = buf.indexOf(0, p);
        xs[name] = Buffer.from(buf.toString('latin1', p, e), 'hex');
        p = e + 1;
      }
      xattrs.set(root + '/' + rel, xs);
    }
    items.push([rel, st]);
  }
  return p === end ? { items, xattrs } : undefined;
}
