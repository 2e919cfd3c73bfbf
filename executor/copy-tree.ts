import { lstatSync, readdirSync, rmSync, statSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { isOverlayXattr } from '../common/index.js';
import { getXattrs, type XattrMap } from '../store/index.js';
import { EntryWriter } from './entry-writer.js';

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
  const c = new TreeCopy(opts.xattrs ?? (await getXattrs(source, { recursive: isDir })), opts);
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
  /**
   * An overlay upper dir copied as a layer's dir: of overlay's xattrs only the opaque mark
   * is kept, as extracting the layer's tar makes it; its bookkeeping for the upper fs
   * (impure, origin, uuid) is left out, and with it a helper process for those alone.
   */
  asLayer?: boolean;
  /** The source's xattrs by absolute path (`resolve(from)/NAME`), when already read: no walk for them. */
  xattrs?: XattrMap;
}

/** The suffix of overlay's opaque mark (trusted.overlay.opaque, user.overlay.opaque). */
const OPAQUE = '.overlay.opaque';

class TreeCopy {
  private readonly out: EntryWriter;

  constructor(
    private readonly sourceXattrs: Map<string, Record<string, Buffer>>,
    private readonly opts: CopyTreeOptions,
  ) {
    this.out = new EntryWriter({ owner: opts.owner, mtime: opts.mtime });
  }

  dir(from: string, to: string, st: Stats): void {
    this.out.dir(to, st, this.xattrsOf(from));
    for (const name of readdirSync(from)) this.entry(join(from, name), join(to, name), lstatSync(join(from, name)));
  }

  entry(from: string, to: string, st: Stats): void {
    if (st.isDirectory()) return this.dir(from, to, st);
    if (st.isSocket()) return;
    if (this.opts.asRootfs && st.isCharacterDevice() && st.rdev === 0) return;
    if (this.opts.asRootfs) rmSync(to, { force: true });
    if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) this.out.node(to, st, this.xattrsOf(from));
    else this.out.file(from, to, st, this.xattrsOf(from));
  }

  finish(): Promise<void> {
    return this.out.finish();
  }

  private xattrsOf(from: string): [string, Buffer][] {
    const xs = this.sourceXattrs.get(from);
    if (!xs) return [];
    return Object.entries(xs).filter(([name]) => !isOverlayXattr(name) || (!this.opts.asRootfs && (!this.opts.asLayer || name.endsWith(OPAQUE))));
  }
}
