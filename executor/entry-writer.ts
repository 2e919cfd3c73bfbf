import { chmodSync, copyFileSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readlinkSync, symlinkSync, type Stats } from 'node:fs';
import { splitRdev } from '../common/index.js';
import { makeNodes, setXattrs, type DeviceNode } from '../store/index.js';

/**
 * Writes copied filesystem entries with what makes them a layer's: owners, modes (setuid
 * too), times, hardlinks as hardlinks, symlinks as they are, device nodes and fifos, xattrs.
 * Devices and xattrs go through the helper once, in `finish()`, and directories get their
 * metadata last (their children change their mtime). Used by copy-tree.ts (`cp -a`) and
 * copy-rootfs.ts (the copy snapshotter's merged root), which decide what to copy.
 */
export class EntryWriter {
  /** `dev:ino` of a file with several links → where its first copy went. */
  private readonly links = new Map<string, string>();
  private readonly nodes: (DeviceNode & { st: Stats })[] = [];
  /** Directories, parents first. */
  private readonly dirs: [string, Stats][] = [];
  private readonly xattrs: { path: string; name: string; value: Buffer }[] = [];

  constructor(private readonly opts: { owner?: { uid: number; gid: number }; mtime?: Date } = {}) {}

  /** Makes `to` (or keeps the directory already there). */
  dir(to: string, st: Stats, xattrs: [string, Buffer][]): void {
    try {
      mkdirSync(to, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !lstatSync(to).isDirectory()) throw e;
    }
    this.dirs.push([to, st]);
    this.noteXattrs(to, xattrs);
  }

  /** A device node or fifo, made in `finish()`. */
  node(to: string, st: Stats, xattrs: [string, Buffer][]): void {
    const kind = st.isFIFO() ? 'p' : st.isBlockDevice() ? 'b' : 'c';
    this.nodes.push({ path: to, kind, ...splitRdev(st.rdev), mode: st.mode & 0o7777, st });
    this.noteXattrs(to, xattrs);
  }

  /** A regular file or symlink; a second name of a file with several links becomes a hardlink. */
  file(from: string, to: string, st: Stats, xattrs: [string, Buffer][]): void {
    if (st.isFile() && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) return linkSync(first, to);
      this.links.set(key, to);
    }
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else copyFileSync(from, to);
    this.meta(to, st);
    this.noteXattrs(to, xattrs);
  }

  async finish(): Promise<void> {
    await makeNodes(this.nodes);
    for (const n of this.nodes) this.meta(n.path, n.st);
    // After chown, which drops security.capability.
    await setXattrs(this.xattrs);
    for (let i = this.dirs.length - 1; i >= 0; i--) this.meta(this.dirs[i][0], this.dirs[i][1]);
  }

  private noteXattrs(path: string, xattrs: [string, Buffer][]): void {
    for (const [name, value] of xattrs) this.xattrs.push({ path, name, value });
  }

  /** Owner, then mode (chown clears setuid/setgid), then times; symlinks keep their mode. */
  private meta(path: string, st: Stats): void {
    const owner = this.opts.owner ?? st;
    if (isRoot || this.opts.owner) lchownSync(path, owner.uid, owner.gid);
    if (!st.isSymbolicLink()) chmodSync(path, st.mode & 0o7777);
    lutimesSync(path, this.opts.mtime ?? st.atime, this.opts.mtime ?? st.mtime);
  }
}

const isRoot = process.getuid?.() === 0;
