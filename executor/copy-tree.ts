import {
  chmodSync,
  copyFileSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  type Stats,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { isOverlayXattr, splitRdev } from '../common/index.js';
import { getXattrs, makeNodes, setXattrs, type DeviceNode } from '../store/index.js';

/**
 * `cp -a` without coreutils: a tree copied with what makes it a layer or a mount's seed —
 * owners, modes (setuid too), times, hardlinks as hardlinks, symlinks as they are, device
 * nodes and fifos (overlay whiteouts are 0/0 char devices), and every xattr (the opaque
 * marker, capabilities). A directory `source` is copied into `dest` (made when missing, its
 * own metadata taken from `source`, as `cp -a source/. dest`); anything else becomes `dest`.
 * Sockets are skipped. Devices and xattrs go through the helper, once per tree.
 */
export async function copyTree(from: string, dest: string, opts: CopyTreeOptions = {}): Promise<void> {
  const source = resolve(from); // the helper names entries below it as `source/NAME`
  const top = lstatSync(source);
  const isDir = top.isDirectory() || (top.isSymbolicLink() && statSync(source).isDirectory());
  const c = new TreeCopy(await getXattrs(source, { recursive: isDir }), opts);
  if (isDir) c.dir(source, dest, statSync(source));
  else c.entry(source, dest, top);
  await c.finish();
}

/**
 * A copy that is an export of an image's files rather than a layer (`--output type=local`):
 * files owned by `owner`, times set to `mtime` when given, overlay whiteouts and
 * overlay xattrs (`trusted.overlay.*`, `user.overlay.*`) left out (`asRootfs`), and what `dest` already holds replaced
 * entry by entry (BuildKit merges into the destination).
 */
export interface CopyTreeOptions {
  owner?: { uid: number; gid: number };
  mtime?: Date;
  asRootfs?: boolean;
}

const isRoot = process.getuid?.() === 0;

class TreeCopy {
  /** `dev:ino` of a file with several links → where its first copy went. */
  private readonly links = new Map<string, string>();
  private readonly nodes: (DeviceNode & { st: Stats })[] = [];
  /** Directories, parents first: their metadata is set last (children change their mtime). */
  private readonly dirs: [string, Stats][] = [];
  private readonly xattrs: { path: string; name: string; value: Buffer }[] = [];

  constructor(
    private readonly sourceXattrs: Map<string, Record<string, Buffer>>,
    private readonly opts: CopyTreeOptions,
  ) {}

  dir(from: string, to: string, st: Stats): void {
    try {
      mkdirSync(to, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !lstatSync(to).isDirectory()) throw e;
    }
    this.dirs.push([to, st]);
    this.noteXattrs(from, to);
    for (const name of readdirSync(from)) this.entry(join(from, name), join(to, name), lstatSync(join(from, name)));
  }

  entry(from: string, to: string, st: Stats): void {
    if (st.isDirectory()) return this.dir(from, to, st);
    if (st.isSocket()) return;
    if (this.opts.asRootfs && st.isCharacterDevice() && st.rdev === 0) return;
    if (this.opts.asRootfs) rmSync(to, { force: true });
    if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      const kind = st.isFIFO() ? 'p' : st.isBlockDevice() ? 'b' : 'c';
      this.nodes.push({ path: to, kind, ...splitRdev(st.rdev), mode: st.mode & 0o7777, st });
      this.noteXattrs(from, to);
      return;
    }
    if (st.isFile() && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) return linkSync(first, to);
      this.links.set(key, to);
    }
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else copyFileSync(from, to);
    this.meta(to, st);
    this.noteXattrs(from, to);
  }

  async finish(): Promise<void> {
    await makeNodes(this.nodes);
    for (const n of this.nodes) this.meta(n.path, n.st);
    // After chown, which drops security.capability.
    await setXattrs(this.xattrs);
    for (let i = this.dirs.length - 1; i >= 0; i--) this.meta(this.dirs[i][0], this.dirs[i][1]);
  }

  private noteXattrs(from: string, to: string): void {
    const xs = this.sourceXattrs.get(from);
    if (!xs) return;
    for (const [name, value] of Object.entries(xs)) {
      if (this.opts.asRootfs && isOverlayXattr(name)) continue;
      this.xattrs.push({ path: to, name, value });
    }
  }

  /** Owner, then mode (chown clears setuid/setgid), then times; symlinks keep their mode. */
  private meta(path: string, st: Stats): void {
    const owner = this.opts.owner ?? st;
    if (isRoot || this.opts.owner) lchownSync(path, owner.uid, owner.gid);
    if (!st.isSymbolicLink()) chmodSync(path, st.mode & 0o7777);
    lutimesSync(path, this.opts.mtime ?? st.atime, this.opts.mtime ?? st.mtime);
  }
}
