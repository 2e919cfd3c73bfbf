import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { readFile, realpath, writeFile } from 'node:fs/promises';
import { isOverlayXattr, noteEntries } from '../common/index.js';
import type { Store } from '../store/index.js';
import { readXattrs, type XattrMap } from './copy-xattrs.js';
import { writeLayer, type LayerEntry, type LayerResult } from './layer-writer.js';

/**
 * The copy snapshotter's layer: a RUN's private copy of the image (copy-rootfs.ts) compared
 * with what it held before the command ran, giving the layer the overlay snapshotter gets
 * from its upper dir — the same entries, so the same bytes. Like continuity's fs.Changes
 * (vendor github.com/containerd/continuity/fs/diff.go, the double walk BuildKit's naive
 * differ uses), but an entry counts as changed when its inode's ctime moved rather than
 * when its stat looks different, because that is when overlay copies an entry up: a write,
 * chmod, chown, xattr, a new hardlink (all names of the inode), a child added or removed.
 * Then, as overlay's upper dir holds them:
 * - a deleted entry under an unchanged-identity directory is a `.wh.NAME` whiteout;
 * - a directory that is not the one that was there (a new inode, or one where a file was) is
 *   opaque (`.wh..wh..opq`) when something was at its path before: overlay marks a directory
 *   made over a whiteout so; a directory where nothing was is not;
 * - every parent of what is in the layer is in it (overlay copies parents up), as containerd's
 *   archive writer adds them (vendor github.com/containerd/containerd/archive/tar.go).
 */
export type TreeIndex = Map<string, Identity>;

interface Identity {
  ino: bigint;
  /** Birth time where the filesystem keeps one (0 elsewhere): an inode number can be reused at once. */
  birthNs: bigint;
  ctimeNs: bigint;
  isDir: boolean;
}

/** What `root` holds now, to compare with after the command ran. */
export function indexTree(root: string): TreeIndex {
  const index: TreeIndex = new Map();
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs)) {
      const a = abs + '/' + name;
      const r = rel === '' ? name : rel + '/' + name;
      const st = lstatSync(a, { bigint: true });
      index.set(r, identity(st));
      if (st.isDirectory()) walk(a, r);
    }
  };
  walk(root, '');
  noteEntries(index.size);
  return index;
}

function identity(st: BigIntStats): Identity {
  return { ino: st.ino, birthNs: st.birthtimeNs, ctimeNs: st.ctimeNs, isDir: st.isDirectory() };
}

export interface CopyDiffOptions {
  sourceDateEpoch?: number;
  /** Paths (relative) left out with everything below them: the container's mount points. */
  omit?: string[];
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

/** `index` written to `file` (a container's, kept until it is committed): NUL-separated fields. */
export async function writeTreeIndex(file: string, index: TreeIndex): Promise<void> {
  const parts: string[] = [];
  for (const [rel, i] of index) parts.push(`${rel}\0${i.ino}\0${i.birthNs}\0${i.ctimeNs}\0${i.isDir ? 'd' : '-'}\0`);
  await writeFile(file, parts.join(''));
}

/** The index in `file`, or undefined when there is none (the container is not a copy). */
export async function readTreeIndex(file: string): Promise<TreeIndex | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const f = text.split('\0');
  const index: TreeIndex = new Map();
  for (let i = 0; i + 5 <= f.length; i += 5) index.set(f[i], { ino: BigInt(f[i + 1]), birthNs: BigInt(f[i + 2]), ctimeNs: BigInt(f[i + 3]), isDir: f[i + 4] === 'd' });
  return index;
}

/**
 * `docker diff` of a copy: `A` added, `C` changed (a parent of a change too, as overlay's
 * upper dir holds it), `D` deleted (below a directory made again: what it had and has not now).
 */
export async function copyChanges(dir: string, before: TreeIndex, opts: { omit?: string[] } = {}): Promise<{ kind: 'A' | 'C' | 'D'; path: string }[]> {
  const root = await realpath(dir);
  const d = new CopyDiff(root, before, new Set((opts.omit ?? []).map((p) => p.replace(/^\/+|\/+$/g, ''))), new Map());
  d.walk(root, '', true);
  return d.changes();
}

/** The layer of what changed in `dir` since `before`; undefined when nothing did. */
export async function diffCopy(store: Store, dir: string, before: TreeIndex, opts: CopyDiffOptions = {}): Promise<LayerResult | undefined> {
  const root = await realpath(dir);
  const omit = new Set((opts.omit ?? []).map((p) => p.replace(/^\/+|\/+$/g, '')));
  const xattrs = await readXattrs(root, { recursive: true });
  const d = new CopyDiff(root, before, omit, xattrs);
  d.walk(root, '', true);
  const entries = d.entries();
  if (entries.length === 0) return undefined;
  return writeLayer(store, entries, { sourceDateEpoch: opts.sourceDateEpoch });
}

class CopyDiff {
  /** By path: what goes in the layer. */
  private readonly changed = new Map<string, LayerEntry>();
  /** Every directory now there, with its stat: parents are taken from here. */
  private readonly dirs = new Map<string, BigIntStats>();

  constructor(
    private readonly root: string,
    private readonly before: TreeIndex,
    private readonly omit: Set<string>,
    private readonly xattrs: XattrMap,
  ) {}

  /**
   * `isMerged`: the directory at `rel` is the one that was there, so what left it needs a
   * whiteout; else it is new or opaque, and all of it is in the layer (a directory moved
   * into it keeps its inode, but overlay would have copied it: rename of a lower dir is EXDEV).
   */
  walk(abs: string, rel: string, isMerged: boolean): void {
    const names = readdirSync(abs);
    const here = new Set(names);
    for (const name of names) {
      const a = abs + '/' + name;
      const r = rel === '' ? name : rel + '/' + name;
      if (this.omit.has(r)) continue;
      const st = lstatSync(a, { bigint: true });
      const was = this.before.get(r);
      const isSame = was !== undefined && was.ino === st.ino && was.birthNs === st.birthtimeNs && was.isDir === st.isDirectory();
      const isChanged = !isMerged || !isSame || was.ctimeNs !== st.ctimeNs;
      if (st.isDirectory()) {
        this.dirs.set(r, st);
        if (isChanged) this.add(a, r, st, { isOpaque: isMerged && !isSame && was !== undefined });
        this.walk(a, r, isMerged && isSame);
      } else if (isChanged) this.add(a, r, st, { isOpaque: false });
    }
    if (!isMerged) return;
    // Deleted: what was directly in this directory and is not now (one whiteout for a whole tree).
    const prefix = rel === '' ? '' : rel + '/';
    for (const name of this.childrenBefore(prefix)) {
      if (here.has(name) || this.omit.has(prefix + name)) continue;
      const parent = rel === '' ? lstatSync(this.root, { bigint: true }) : this.dirs.get(rel)!;
      const path = prefix + WHITEOUT_PREFIX + name;
      this.changed.set(path, { path, type: 'file', mode: 0, uid: 0, gid: 0, mtimeMs: ms(parent), size: 0 });
    }
  }

  /** The layer's entries: the changes and every parent directory of one. */
  entries(): LayerEntry[] {
    for (const path of [...this.changed.keys()]) {
      for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
        const dir = path.slice(0, i);
        if (this.changed.has(dir)) continue;
        this.add(this.root + '/' + dir, dir, this.dirs.get(dir)!, { isOpaque: false });
      }
    }
    return [...this.changed.values()];
  }

  changes(): { kind: 'A' | 'C' | 'D'; path: string }[] {
    const out: { kind: 'A' | 'C' | 'D'; path: string }[] = [];
    for (const e of this.entries()) {
      const slash = e.path.lastIndexOf('/');
      const dir = slash < 0 ? '' : e.path.slice(0, slash + 1);
      const name = e.path.slice(slash + 1);
      if (e.isOpaqueMarker) {
        for (const gone of this.childrenBefore(dir)) if (!this.changed.has(dir + gone)) out.push({ kind: 'D', path: '/' + dir + gone });
      } else if (name.startsWith(WHITEOUT_PREFIX)) out.push({ kind: 'D', path: '/' + dir + name.slice(WHITEOUT_PREFIX.length) });
      else out.push({ kind: this.before.has(e.path) ? 'C' : 'A', path: '/' + e.path });
    }
    return out;
  }

  /** Names directly in `prefix` (`dir/`, or '' for the root) before the command ran. */
  private childrenBefore(prefix: string): string[] {
    if (!this.byParent) {
      this.byParent = new Map();
      for (const rel of this.before.keys()) {
        const i = rel.lastIndexOf('/');
        const p = i < 0 ? '' : rel.slice(0, i + 1);
        let list = this.byParent.get(p);
        if (!list) this.byParent.set(p, (list = []));
        list.push(rel.slice(i + 1));
      }
    }
    return this.byParent.get(prefix) ?? [];
  }

  private byParent: Map<string, string[]> | undefined;

  private add(abs: string, rel: string, st: BigIntStats, o: { isOpaque: boolean }): void {
    const mode = Number(st.mode) & 0o7777;
    const base = { path: rel, mode, uid: Number(st.uid), gid: Number(st.gid), mtimeMs: ms(st), xattrs: keptXattrs(this.xattrs.get(abs)) };
    if (st.isDirectory()) {
      this.changed.set(rel, { ...base, type: 'dir' });
      if (o.isOpaque) {
        const path = rel + '/' + OPAQUE_MARKER;
        this.changed.set(path, { path, type: 'file', mode: 0, uid: 0, gid: 0, mtimeMs: ms(st), size: 0, isOpaqueMarker: true });
      }
    } else if (st.isFile()) {
      const e: LayerEntry = { ...base, type: 'file', size: Number(st.size), content: { path: abs } };
      if (st.nlink > 1n) e.hardlinkKey = `${st.dev}:${st.ino}`;
      this.changed.set(rel, e);
    } else if (st.isSymbolicLink()) this.changed.set(rel, { ...base, type: 'symlink', linkTarget: readlinkSync(abs) });
    else if (st.isCharacterDevice() || st.isBlockDevice()) {
      this.changed.set(rel, { ...base, type: st.isCharacterDevice() ? 'char' : 'block', rdev: Number(st.rdev) });
    } else if (st.isFIFO()) this.changed.set(rel, { ...base, type: 'fifo' });
    // Sockets cannot be archived (Docker skips them too).
  }
}

const ms = (st: BigIntStats) => Number(st.mtimeNs / 1_000_000n);

function keptXattrs(all: Record<string, Buffer> | undefined): Record<string, Buffer> | undefined {
  if (!all) return undefined;
  const kept: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(all)) if (!isOverlayXattr(k)) kept[k] = v;
  return Object.keys(kept).length > 0 ? kept : undefined;
}
