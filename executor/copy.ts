import type { Stats } from 'node:fs';
import type { Writable } from 'node:stream';
import { lstat, readlink, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { UserError, unreachable, type SourceRange } from '../common/index.js';
import {
  applyChmod,
  cleanPath,
  contextMessages,
  hasWildcards,
  parseChmod,
  resolveInRoot,
  selectSources,
  type Chmod,
  type Matcher,
  type SelectedSource,
  type SourceEntry,
  type SourceSelection,
} from '../context/index.js';
import type { Store } from '../store/index.js';
import { detectArchive, readArchive, type ArchiveEntry } from './copy-archive.js';
import { readXattrs, type XattrMap } from './copy-xattrs.js';
import { writeLayer, type LayerEntry, type LayerResult } from './layer-writer.js';
import { resolveChown, resolveWorkdirOwner } from './user.js';

/**
 * COPY and ADD as one layer written straight from the sources (no container), with Docker's
 * (BuildKit's) rules: the destination is relative to WORKDIR; it is a directory when it ends
 * in `/` or already is one in the image (several sources need one); a directory source copies
 * its contents, not itself; missing parents are created 0755 and owned by the --chown user;
 * ADD unpacks local tar archives (by magic bytes), COPY never does. The layer holds every
 * parent directory of what it writes (existing ones with their current metadata), so it is a
 * correct tree on its own; destinations are resolved through the image's symlinks
 * (`COPY x /bin/` on a merged-/usr image writes usr/bin/x).
 */
export interface CopyLayerOptions {
  /** Where sources are read: the build context, or a stage/image rootfs (undefined: empty). */
  sourceRoot: string | undefined;
  /** Context files are owned by 0:0 in the image; a stage's keep their owners. */
  fromContext: boolean;
  /** The context's .dockerignore (context sources only). */
  ignore?: Matcher;
  sources: string[];
  /** Heredoc files (`COPY <<EOF /x`): name and content, chomping already done by the caller. */
  inline?: { name: string; content: string }[];
  dest: string;
  workdir: string;
  chown?: string;
  chmod?: string;
  excludes?: string[];
  parents?: boolean;
  isAdd: boolean;
  /** ADD: extract local tar archives (default: `isAdd`); ADD --unpack=false copies them as files. */
  unpack?: boolean;
  /**
   * --link (without --chmod, as BuildKit links only then): the layer is made on its own, reading
   * nothing of the image below (reference.md "Incompatibilities with --link=false"): no symlink
   * in the destination is followed, parents are new 0755 dirs. --chown names still use its passwd.
   */
  link?: boolean;
  /** WORKDIR: only create `dest` as a directory. */
  mkdirOnly?: boolean;
  /** The current image rootfs as a directory: existing directories, symlinks and /etc/passwd. */
  destRoot?: string;
  sourceDateEpoch?: number;
  where?: SourceRange;
  /** Names the source root in messages (default: "build context" or "source image"). */
  what?: string;
  /** A selection already made by the planner (same sources and options), to avoid a second walk. */
  selection?: SourceSelection;
  /** Also send the layer tar here (the build extracts it while it is written). */
  tee?: Writable;
}

export const copyMessages = {
  'copy-dest-not-dir': (path: string) => `cannot copy to non-directory: ${path}`,
  'copy-replace-dir': (path: string) => `cannot replace directory ${path} with a file`,
  // The Dockerfile reference ("ADD", "COPY") says so; BuildKit itself does not check it (its
  // copies then overwrite one file), so the message is the Docker builder's.
  'copy-dest-needs-slash': (kw: string) =>
    `When using ${kw} with more than one source file, the destination must be a directory and end with a /`,
} satisfies Record<string, (...args: never[]) => string>;

/** Write the COPY/ADD layer into the store. Never undefined: Docker adds a layer for every COPY. */
export async function writeCopyLayer(store: Store, opts: CopyLayerOptions): Promise<LayerResult> {
  const kw = opts.isAdd ? 'ADD' : 'COPY';
  // WORKDIR's dirs belong to the USER (as BuildKit's mkdir resolves it), a COPY's to --chown.
  const owner = opts.mkdirOnly ? resolveWorkdirOwner : resolveChown;
  const chown = opts.chown ? await owner(opts.chown, opts.destRoot) : undefined;
  const chmod = opts.chmod ? parseChmod(opts.chmod) : undefined;
  const what = opts.what ?? (opts.fromContext ? 'build context' : 'source image');
  const literal = opts.sources.find((s) => !hasWildcards(s));
  if (opts.sourceRoot === undefined && literal !== undefined && !opts.selection) {
    // A stage with no layers (FROM scratch) has no files at all; a wildcard may match nothing.
    const path = cleanPath('/' + literal);
    throw new UserError('copy-source-missing', contextMessages['copy-source-missing'](path), { where: opts.where ?? what });
  }
  const selection =
    opts.selection ??
    (opts.sources.length === 0 || opts.sourceRoot === undefined
      ? { root: opts.sourceRoot ?? '/', sources: [] }
      : await selectSources(opts.sourceRoot, opts.sources, {
          ignore: opts.fromContext ? opts.ignore : undefined,
          excludes: opts.excludes,
          what,
          where: opts.where,
          parents: opts.parents,
          preserveOwner: !opts.fromContext,
        }));
  // ADD keeps archive entries' bytes in a store temp dir (same filesystem, cleaned if we die).
  let tmp: string | undefined;
  const tempDir = async () => (tmp ??= await store.makeTempDir('add-'));
  const linked = opts.link === true && opts.chmod === undefined;
  const b = new LayerBuilder(linked ? { ...opts, destRoot: undefined } : opts, chown, chmod, kw);
  try {
    await b.plan(selection, tempDir);
    return await writeLayer(store, b.entries(), { sourceDateEpoch: opts.sourceDateEpoch, tee: opts.tee });
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

/** Destination `dest` as an absolute path, and whether its spelling makes it a directory. */
export function destinationPath(dest: string, workdir: string): { path: string; isDirHint: boolean } {
  const isDirHint = dest === '.' || dest === '..' || dest.endsWith('/') || dest.endsWith('/.') || dest.endsWith('/..') || dest === '';
  const abs = dest.startsWith('/') ? dest : posix.join(workdir || '/', dest);
  return { path: cleanPath('/' + abs), isDirHint };
}

class LayerBuilder {
  private readonly out = new Map<string, LayerEntry>();
  private readonly nowMs: number;

  constructor(
    private readonly opts: CopyLayerOptions,
    private readonly chown: { uid: number; gid: number } | undefined,
    private readonly chmod: Chmod | undefined,
    private readonly kw: string,
  ) {
    this.nowMs = opts.sourceDateEpoch !== undefined ? opts.sourceDateEpoch * 1000 : Date.now();
  }

  entries(): LayerEntry[] {
    return [...this.out.values()];
  }

  async plan(sel: SourceSelection, tempDir: () => Promise<string>): Promise<void> {
    const { path: destAbs, isDirHint } = destinationPath(this.opts.dest, this.opts.workdir);
    const dest = await this.resolveDest(destAbs);
    const count = sel.sources.length + (this.opts.inline?.length ?? 0);
    // Wildcards that matched nothing: BuildKit's copy returns before it makes the destination.
    if (count === 0 && !this.opts.mkdirOnly) return;
    if (count > 1 && !isDirHint && !dest.isDir && !this.opts.parents) {
      throw new UserError('copy-dest-needs-slash', copyMessages['copy-dest-needs-slash'](this.kw), {
        where: this.opts.where,
        hint: `end the destination with a slash: ${this.kw} … ${this.opts.dest}/`,
      });
    }
    const destIsDir = isDirHint || dest.isDir || count > 1 || this.opts.parents === true || this.opts.mkdirOnly === true;
    if (destIsDir) {
      if (dest.exists && !dest.isDir) throw new UserError('copy-dest-not-dir', copyMessages['copy-dest-not-dir'](destAbs), { where: this.opts.where });
      await this.ensureDir(dest.rel);
    } else await this.ensureParents(dest.rel);

    for (const src of sel.sources) {
      const xattrs = await readXattrs(src.entries[0].absPath, { recursive: src.isDir });
      if (this.opts.parents) await this.placeWithParents(src, dest.rel, sel.root, xattrs);
      else if (src.isDir) {
        await this.ensureDir(dest.rel);
        this.addTree(src.entries.slice(1), dest.rel, xattrs);
      } else {
        const archive = (this.opts.unpack ?? this.opts.isAdd) && src.entries[0].type === 'file' ? await detectArchive(src.entries[0].absPath) : undefined;
        if (archive) {
          await this.ensureDir(dest.rel);
          await this.addArchive(await readArchive(src.entries[0].absPath, archive, await tempDir()), dest.rel);
          continue;
        }
        const target = destIsDir ? join2(dest.rel, src.name) : dest.rel;
        await this.checkNotDir(target, src.entries[0]);
        this.add(target, src.entries[0], xattrs);
      }
    }
    for (const doc of this.opts.inline ?? []) {
      const name = posix.basename(cleanPath('/' + doc.name));
      const target = destIsDir ? join2(dest.rel, name) : dest.rel;
      const bytes = Buffer.from(doc.content);
      this.out.set(target, {
        path: target,
        type: 'file',
        mode: applyChmod(this.chmod, 0o644, false),
        uid: this.chown?.uid ?? 0,
        gid: this.chown?.gid ?? 0,
        mtimeMs: this.nowMs,
        size: bytes.length,
        content: { bytes },
      });
    }
  }

  /** `dest` resolved through the image's symlinks: its real path (relative) and what is there. */
  private async resolveDest(destAbs: string): Promise<{ rel: string; exists: boolean; isDir: boolean }> {
    if (!this.opts.destRoot) return { rel: destAbs.slice(1), exists: false, isDir: false };
    const r = await resolveInRoot(this.opts.destRoot, destAbs, { followFinal: true });
    return { rel: r.realRel, exists: r.stat !== undefined, isDir: r.stat?.isDirectory() ?? false };
  }

  private async existing(rel: string): Promise<Stats | undefined> {
    if (!this.opts.destRoot || rel === '') return undefined;
    try {
      return await lstat(this.opts.destRoot + '/' + rel);
    } catch {
      return undefined;
    }
  }

  /** A directory entry for `rel` and all its parents: existing ones as they are, new ones 0755. */
  private async ensureDir(rel: string): Promise<void> {
    if (rel === '') return;
    await this.ensureParents(rel);
    if (this.out.get(rel)?.type === 'dir') return;
    const st = await this.existing(rel);
    if (st && !st.isDirectory()) throw new UserError('copy-dest-not-dir', copyMessages['copy-dest-not-dir']('/' + rel), { where: this.opts.where });
    this.out.set(
      rel,
      st
        ? { path: rel, type: 'dir', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs }
        : // BuildKit's MkdirAll: 0755, owned by the --chown user.
          { path: rel, type: 'dir', mode: 0o755, uid: this.chown?.uid ?? 0, gid: this.chown?.gid ?? 0, mtimeMs: this.nowMs },
    );
  }

  private async ensureParents(rel: string): Promise<void> {
    const i = rel.lastIndexOf('/');
    if (i > 0) await this.ensureDir(rel.slice(0, i));
  }

  private async checkNotDir(target: string, e: SourceEntry): Promise<void> {
    if (e.type === 'dir') return;
    const st = this.out.get(target) ?? (await this.existing(target));
    const isDir = st ? ('type' in st ? st.type === 'dir' : st.isDirectory()) : false;
    if (isDir) throw new UserError('copy-replace-dir', copyMessages['copy-replace-dir']('/' + target), { where: this.opts.where });
  }

  /** One copied object at `path`, its metadata after --chown/--chmod. */
  private add(path: string, e: SourceEntry, xattrs: XattrMap | undefined): void {
    const entry: LayerEntry = {
      path,
      type: e.type,
      mode: applyChmod(this.chmod, e.mode, e.type === 'dir'),
      uid: this.chown?.uid ?? e.uid,
      gid: this.chown?.gid ?? e.gid,
      mtimeMs: e.mtimeMs,
      xattrs: xattrs?.get(e.absPath),
    };
    if (e.type === 'file') {
      entry.size = e.size;
      entry.content = { path: e.absPath };
      if (e.nlink > 1) entry.hardlinkKey = `${e.dev}:${e.ino}`;
    }
    if (e.type === 'symlink') entry.linkTarget = e.linkTarget;
    if (e.type === 'char' || e.type === 'block') entry.rdev = e.rdev;
    this.out.set(path, entry);
  }

  private addTree(entries: SourceEntry[], base: string, xattrs: XattrMap | undefined): void {
    for (const e of entries) this.add(join2(base, e.subPath), e, xattrs);
  }

  /** --parents: the source keeps its path below the pivot; the directories on the way copy theirs. */
  private async placeWithParents(src: SelectedSource, destRel: string, root: string, xattrs: XattrMap | undefined): Promise<void> {
    const keep = cleanPath('/' + (src.parentsPath ?? src.path)).slice(1);
    if (keep === '') {
      // `.`, `./` or a pivot at the end (`a/./`): nothing to keep, the directory's contents
      // go to the destination (BuildKit's include pattern is then the whole source).
      await this.ensureDir(destRel);
      if (src.isDir) this.addTree(src.entries.slice(1), destRel, xattrs);
      else this.add(join2(destRel, src.name), src.entries[0], xattrs);
      return;
    }
    const parts = keep.split('/');
    const pivotAbs = src.path.endsWith(keep) ? src.path.slice(0, src.path.length - keep.length) : '';
    let at = destRel;
    for (let i = 0; i < parts.length - 1; i++) {
      at = join2(at, parts[i]);
      if (this.out.has(at)) continue;
      const srcDir = join(root, pivotAbs, ...parts.slice(0, i + 1));
      const st = await lstat(srcDir).catch(() => undefined);
      if (st?.isDirectory()) {
        this.out.set(at, {
          path: at,
          type: 'dir',
          mode: applyChmod(this.chmod, st.mode, true),
          uid: this.chown?.uid ?? (this.opts.fromContext ? 0 : st.uid),
          gid: this.chown?.gid ?? (this.opts.fromContext ? 0 : st.gid),
          mtimeMs: st.mtimeMs,
        });
      } else await this.ensureDir(at);
    }
    const target = join2(destRel, keep);
    this.add(target, src.entries[0], xattrs);
    this.addTree(src.entries.slice(1), target, xattrs);
  }

  /**
   * Where archive entry `rel` lands below `destRel`: its parent components resolved through
   * the symlinks met on the way (the archive's own, already placed, and the image's), kept
   * within the destination as BuildKit's chrootarchive.Untar (chroot at the destination,
   * solver/llbsolver/file/unpack.go) keeps them; the last component is never followed.
   */
  private async throughLinks(destRel: string, rel: string): Promise<string> {
    const pending = rel.split('/').filter((c) => c !== '' && c !== '.');
    const last = pending.pop();
    if (last === undefined) return destRel;
    const done: string[] = [];
    for (let hops = 0; pending.length > 0; ) {
      const comp = pending.shift()!;
      if (comp === '..') {
        done.pop();
        continue;
      }
      const here = join2(destRel, [...done, comp].join('/'));
      const link = await this.symlinkAt(here);
      if (link === undefined) {
        done.push(comp);
        continue;
      }
      if (++hops > 255) throw new UserError('add-archive-unsafe', `${this.kw}: too many levels of symbolic links at ${rel}`, { where: this.opts.where });
      if (link.startsWith('/')) done.length = 0;
      pending.unshift(...link.split('/').filter((c) => c !== '' && c !== '.'));
    }
    return join2(destRel, [...done, last].join('/'));
  }

  /** The target of a symlink at `rel`: one this layer places, else the image's. */
  private async symlinkAt(rel: string): Promise<string | undefined> {
    const placed = this.out.get(rel);
    if (placed) return placed.type === 'symlink' ? placed.linkTarget : undefined;
    const st = await this.existing(rel);
    return st?.isSymbolicLink() ? readlink(this.opts.destRoot + '/' + rel) : undefined;
  }

  /** ADD of a local archive: its entries below `destRel`, owners kept unless --chown. */
  private async addArchive(entries: ArchiveEntry[], destRel: string): Promise<void> {
    const links = new Map<string, string>();
    for (const a of entries) if (a.type === 'hardlink' && a.linkTarget !== undefined) links.set(a.linkTarget, a.linkTarget);
    for (const a of entries) {
      const path = a.path === '' ? destRel : await this.throughLinks(destRel, a.path);
      if (path === '') continue;
      if (a.path !== '') await this.ensureParents(path);
      const base = { path, mode: a.mode, uid: this.chown?.uid ?? a.uid, gid: this.chown?.gid ?? a.gid, mtimeMs: a.mtimeMs };
      switch (a.type) {
        case 'dir':
          this.out.set(path, { ...base, type: 'dir' });
          break;
        case 'file':
          this.out.set(path, {
            ...base,
            type: 'file',
            size: a.size,
            content: { path: a.contentPath! },
            hardlinkKey: links.has(a.path) ? `archive:${a.path}` : undefined,
          });
          break;
        case 'hardlink': {
          const target = this.out.get(await this.throughLinks(destRel, a.linkTarget ?? ''));
          if (!target || target.type !== 'file') {
            throw new UserError('add-archive-unsafe', `${this.kw}: hardlink ${a.path} points at a missing file ${a.linkTarget}`, { where: this.opts.where });
          }
          this.out.set(path, { ...target, ...base, mode: target.mode, type: 'file', hardlinkKey: `archive:${a.linkTarget}` });
          break;
        }
        case 'symlink':
          this.out.set(path, { ...base, type: 'symlink', linkTarget: a.linkTarget });
          break;
        case 'char':
        case 'block':
          this.out.set(path, { ...base, type: a.type, rdev: makeRdev(a.devmajor, a.devminor) });
          break;
        case 'fifo':
          this.out.set(path, { ...base, type: 'fifo' });
          break;
        default:
          unreachable(a.type);
      }
    }
  }
}

function join2(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  return a + '/' + b;
}

/** Linux makedev(). */
function makeRdev(major: number, minor: number): number {
  const lo = ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & 0xfff00) << 12)) >>> 0;
  const hi = ((major & 0xfffff000) | ((minor >>> 20) & 0xfff)) >>> 0;
  return hi * 2 ** 32 + lo;
}
