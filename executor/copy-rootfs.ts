import { chmodSync, closeSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, type Stats } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { inUserNamespace, isOverlayXattr } from '../common/index.js';
import { getXattrs, type XattrMap } from '../store/index.js';
import { EntryWriter } from './entry-writer.js';

/**
 * The copy snapshotter's root (snapshotter.ts): the merged view of an image's layer dirs,
 * copied into one plain directory as overlay would show it — a whiteout (0/0 character
 * device) hides what is below it, an opaque directory hides the lower layers' entries in it —
 * with owners, modes, times, xattrs, hardlinks, symlinks, fifos and devices kept, and no
 * overlay marks. Each entry is copied once, from the top-most layer that has it. This is
 * what BuildKit's native snapshotter does with continuity's fs.CopyDir (vendor
 * github.com/containerd/continuity/fs/copy.go), merged over whiteouts as overlay does.
 */
export async function copyLayers(bottomFirst: readonly string[], dest: string): Promise<void> {
  const layers = await Promise.all([...bottomFirst].reverse().map((d) => realpath(d)));
  const xattrs = await Promise.all(layers.map((d) => getXattrs(d, { recursive: true })));
  const c = new MergedCopy(xattrs);
  mkdirSync(dest, { recursive: true });
  const tops = layers.map((abs, layer) => ({ abs, layer, st: lstatSync(abs) }));
  c.dir(tops.slice(0, firstOpaque(tops, c) + 1), dest);
  await c.finish();
}

interface Source {
  abs: string;
  /** Index in top-first order. */
  layer: number;
  st: Stats;
}

const isRoot = process.getuid?.() === 0;
/** In a user namespace the kernel refuses mknod of real devices; extraction left them out too (store/layers.ts). */
const canMakeDevices = isRoot && !inUserNamespace;

/** Index of the first (top-most) source that is opaque, or the last one. */
function firstOpaque(sources: Source[], c: MergedCopy): number {
  const i = sources.findIndex((s) => c.isOpaque(s));
  return i < 0 ? sources.length - 1 : i;
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

class MergedCopy {
  private readonly out = new EntryWriter();

  constructor(private readonly layerXattrs: XattrMap[]) {}

  isOpaque(s: Source): boolean {
    const xs = this.layerXattrs[s.layer].get(s.abs);
    return !!xs && Object.entries(xs).some(([k, v]) => isOverlayXattr(k) && k.endsWith('.opaque') && v.toString() === 'y');
  }

  /** `sources`: the same directory in several layers, top-most first, none below an opaque one. */
  dir(sources: Source[], to: string): void {
    this.out.dir(to, sources[0].st, this.xattrsOf(sources[0]));
    // A name is decided by the top-most layer that has it; a directory merges with the same
    // directory below it until a whiteout, a non-directory or an opaque directory.
    const merged = new Map<string, { dirs: Source[]; closed: boolean } | null>();
    for (const src of sources) {
      for (const name of readdirSync(src.abs)) {
        const cur = merged.get(name);
        if (cur === null || cur?.closed) continue;
        const abs = src.abs + '/' + name;
        const st = lstatSync(abs);
        const s: Source = { abs, layer: src.layer, st };
        if (st.isDirectory()) {
          if (cur) cur.dirs.push(s);
          else merged.set(name, { dirs: [s], closed: false });
          if (this.isOpaque(s)) merged.get(name)!.closed = true;
        } else if (cur) cur.closed = true;
        else {
          merged.set(name, null);
          if (!isWhiteout(st)) this.entry(s, to + '/' + name);
        }
      }
    }
    for (const [name, m] of merged) if (m) this.dir(m.dirs, to + '/' + name);
  }

  private entry(s: Source, to: string): void {
    const { st } = s;
    if (st.isSocket()) return;
    if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      if (!st.isFIFO() && !canMakeDevices) return;
      this.out.node(to, st, this.xattrsOf(s));
    } else this.out.file(s.abs, to, st, this.xattrsOf(s));
  }

  finish(): Promise<void> {
    return this.out.finish();
  }

  private xattrsOf(s: Source): [string, Buffer][] {
    const xs = this.layerXattrs[s.layer].get(s.abs);
    if (!xs) return [];
    // user.* xattrs cannot be set on symlinks.
    if (s.st.isSymbolicLink() && Object.keys(xs).every((k) => k.startsWith('user.'))) return [];
    return Object.entries(xs).filter(([name]) => !isOverlayXattr(name));
  }
}

/**
 * Make the mount points a container needs in `root` before it runs (the overlay snapshotter
 * keeps them in the helper's stub dir, below the image): so that the helper creates none in
 * the copy, and what the command changes is all the comparison finds. Parents keep their
 * times. A path through a symlink is left to the helper, which resolves it inside the container.
 * Returns the paths made (relative), parents first.
 */
export function makeMountTargets(root: string, targets: { path: string; isDir: boolean }[]): string[] {
  const made: string[] = [];
  for (const t of targets) {
    const parts = t.path.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.length === 0 || parts.includes('..')) continue;
    let dir = root;
    for (const [i, name] of parts.entries()) {
      const abs = dir + '/' + name;
      const st = lstatSync(abs, { throwIfNoEntry: false });
      if (st && !st.isDirectory()) break; // a file is where it already is; a symlink is the helper's
      if (!st) {
        const parent = lstatSync(dir);
        if (i < parts.length - 1 || t.isDir) mkdirSync(abs);
        else closeSync(openSync(abs, 'wx'));
        chmodSync(abs, i < parts.length - 1 || t.isDir ? 0o755 : 0o644);
        lutimesSync(dir, parent.atime, parent.mtime);
        made.push(parts.slice(0, i + 1).join('/'));
      }
      dir = abs;
    }
  }
  return made;
}
