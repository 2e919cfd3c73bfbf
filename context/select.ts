import { readdirSync, type Stats } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { noteEntries, UserError, type FsEntryType, type SourceRange } from '../common/index.js';
import { cleanPath, compilePatterns, type Matcher } from './dockerignore.js';
import { hasWildcards, goMatch } from './glob.js';
import { contextMessages } from './messages.js';
import { lstatSyncOrUndefined, resolveInRoot, type StatObserver } from './resolve.js';

/*
 * Which files a COPY/ADD selects, by Docker's source rules: paths confined to the root,
 * wildcards per component, .dockerignore'd files never read or listed.
 */

/** Hardlinks are found later, by dev:ino, when a layer is written. */
export type EntryType = Exclude<FsEntryType, 'hardlink'>;

/** One file system object a COPY would copy. */
export interface SourceEntry {
  /** Path below the selected source ('' = the source itself), slash-separated. */
  subPath: string;
  /** The source path as named + subPath, relative to the root: what the digest records. */
  relPath: string;
  /** Where the bytes are on disk (symlinks of the source itself resolved inside the root). */
  absPath: string;
  type: EntryType;
  /** Permission bits, setuid/setgid/sticky included (07777). */
  mode: number;
  /** Owner as copied: 0:0 for the build context (Docker), the file's own for a stage/image. */
  uid: number;
  gid: number;
  size: number;
  linkTarget?: string;
  mtimeMs: number;
  ino: number;
  dev: number;
  nlink: number;
  rdev: number;
}

export interface SelectedSource {
  /** The source as written in the Dockerfile. */
  pattern: string;
  /** Cleaned path relative to the root ('.' for the root); a symlink's own name, not its target. */
  path: string;
  /** basename(path): the name a file gets inside a destination directory. */
  name: string;
  /** With --parents: the path below the pivot (`a/./b/c` → `b/c`; no pivot → the whole path). */
  parentsPath?: string;
  isDir: boolean;
  fromWildcard: boolean;
  /** entries[0] is the source itself; then its contents depth-first, names in byte order. */
  entries: SourceEntry[];
}

export interface SourceSelection {
  root: string;
  sources: SelectedSource[];
}

export interface SelectOptions {
  ignore?: Matcher;
  /** COPY --exclude patterns. */
  excludes?: string[];
  /** Names the root in messages: "build context", "stage builder", … */
  what: string;
  where?: SourceRange;
  /** Told of every lstat the selection makes (to know later whether the context changed). */
  observe?: StatObserver;
  /** COPY --parents: keep each source's path below its `/./` pivot. */
  parents?: boolean;
  /** Keep the files' owners (COPY --from a stage or image); the build context is owned by 0:0. */
  preserveOwner?: boolean;
}

/**
 * Resolve COPY/ADD sources against `root`. A missing source raises UserError
 * 'copy-source-missing' with Docker's `"/x": not found`; a wildcard may match nothing, even
 * when it is the only source (BuildKit's COPY sets AllowEmptyWildcard: solver/llbsolver/file/backend.go).
 */
export async function selectSources(root: string, patterns: string[], opts: SelectOptions): Promise<SourceSelection> {
  const excludes = opts.excludes && opts.excludes.length > 0 ? compilePatterns(opts.excludes, '--exclude') : undefined;
  const walker = new Walker(root, opts, excludes);
  const sources: SelectedSource[] = [];
  for (const pattern of patterns) {
    const { pivot, rest } = splitPivot(pattern, opts.parents === true);
    const full = cleanPath('/' + (pivot ? pivot + '/' : '') + rest);
    if (!hasWildcards(full)) {
      const src = await walker.source(full, false, pattern, pivot);
      if (!src) throw missing(full, opts, await walker.isOnlyIgnored(full));
      sources.push(src);
      continue;
    }
    for (const m of await walker.wildcard(full)) {
      const src = await walker.source(m, true, pattern, pivot);
      if (src) sources.push(src);
    }
  }
  return { root, sources };
}

function missing(path: string, opts: SelectOptions, ignored: boolean): UserError {
  const code = 'copy-source-missing';
  const message = ignored ? contextMessages['copy-source-ignored'](path) : contextMessages['copy-source-missing'](path);
  return new UserError(code, message, {
    where: opts.where ?? opts.what,
    hint: ignored ? `it is excluded by the ${opts.what}'s .dockerignore` : `check that it exists in the ${opts.what}`,
  });
}

/** Split `a/./b` at its first `/./` for --parents (BuildKit: no pivot → the root). */
function splitPivot(pattern: string, parents: boolean): { pivot: string | undefined; rest: string } {
  if (!parents) return { pivot: undefined, rest: pattern };
  const i = pattern.indexOf('/./');
  if (i < 0) return { pivot: '', rest: pattern };
  return { pivot: pattern.slice(0, i), rest: pattern.slice(i + 3) };
}

const BATCH = 256;

class Walker {
  constructor(
    private readonly root: string,
    private readonly opts: SelectOptions,
    private readonly excludes: Matcher | undefined,
  ) {}

  private lstat(p: string): Stats | undefined {
    const st = lstatSyncOrUndefined(p);
    this.opts.observe?.(p, st);
    return st;
  }

  private hidden = (realRel: string, st: Stats): boolean => {
    const ig = this.opts.ignore;
    if (!ig || !ig.isExcluded(realRel)) return false;
    return !(st.isDirectory() && ig.mayHaveIncludedChildren(realRel));
  };

  /** Was `full` only missing because the .dockerignore hides it? (for the hint) */
  async isOnlyIgnored(full: string): Promise<boolean> {
    if (!this.opts.ignore) return false;
    const r = await resolveInRoot(this.root, full, { followFinal: true });
    return r.stat !== undefined;
  }

  /** The source at `full` (a cleaned absolute-in-root path), symlinks followed; undefined if absent. */
  async source(full: string, fromWildcard: boolean, pattern: string, pivot: string | undefined): Promise<SelectedSource | undefined> {
    const r = await resolveInRoot(this.root, full, { followFinal: true, isHidden: this.hidden, observe: this.opts.observe });
    if (!r.stat) return undefined;
    const path = full === '/' ? '.' : full.slice(1);
    const top = this.entry(r.stat, '', path, r.realRel === '' ? this.root : this.root + '/' + r.realRel);
    if (!top) return undefined;
    const src: SelectedSource = {
      pattern,
      path,
      name: basename(path),
      isDir: top.type === 'dir',
      fromWildcard,
      entries: [top],
    };
    if (pivot !== undefined) {
      const base = cleanPath('/' + pivot);
      src.parentsPath = base === '/' ? path : cleanPath(full.slice(base.length)).replace(/^\/+/, '');
    }
    if (top.type === 'dir') {
      await this.walk(top.absPath, r.realRel, '', path, src.entries);
      if (this.opts.ignore?.isExcluded(r.realRel) && src.entries.length === 1) return undefined;
    } else if (top.type === 'symlink') {
      top.linkTarget = await readlink(top.absPath);
    }
    return src;
  }

  /** Paths (absolute-in-root, unresolved) matching a wildcard source, in walk order. */
  async wildcard(full: string): Promise<string[]> {
    const parts = full.split('/').filter(Boolean);
    const k = parts.findIndex((p) => hasWildcards(p));
    const baseParts = parts.slice(0, k);
    const comps = parts.slice(k);
    const base = await resolveInRoot(this.root, baseParts.join('/'), { followFinal: true, isHidden: this.hidden, observe: this.opts.observe });
    if (!base.stat?.isDirectory()) return [];
    const out: string[] = [];
    const visit = async (realRel: string, named: string[], depth: number, relToBase: string[]): Promise<void> => {
      const abs = realRel === '' ? this.root : this.root + '/' + realRel;
      const names = (await readdir(abs)).filter((n) => safeMatch(comps[depth], n)).sort(compareNames);
      for (const name of names) {
        const childReal = realRel === '' ? name : realRel + '/' + name;
        const st = this.lstat(this.root + '/' + childReal);
        if (!st || this.hidden(childReal, st)) continue;
        const childRel = [...relToBase, name];
        if (depth === comps.length - 1) {
          if (this.excludes?.isExcluded(childRel.join('/'))) continue;
          out.push('/' + [...named, name].join('/'));
        } else if (st.isDirectory()) {
          await visit(childReal, [...named, name], depth + 1, childRel);
        }
      }
    };
    await visit(base.realRel, baseParts, 0, []);
    return out;
  }

  private entry(st: Stats, subPath: string, relBase: string, absPath: string): SourceEntry | undefined {
    const type = entryType(st);
    if (!type) return undefined;
    const preserve = this.opts.preserveOwner === true;
    return {
      subPath,
      relPath: subPath === '' ? relBase : relBase === '.' ? subPath : relBase + '/' + subPath,
      absPath,
      type,
      mode: st.mode & 0o7777,
      uid: preserve ? st.uid : 0,
      gid: preserve ? st.gid : 0,
      size: type === 'file' ? st.size : 0,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
      dev: st.dev,
      nlink: st.nlink,
      rdev: st.rdev,
    };
  }

  /** Depth-first walk below a source directory, skipping ignored and --exclude'd entries. */
  private async walk(absDir: string, realRel: string, subPath: string, relBase: string, out: SourceEntry[]): Promise<void> {
    let names: string[];
    try {
      // Synchronous, as the lstats below: a round trip through libuv's pool a directory was
      // most of the walk's waiting (workload 3: 101 directories).
      names = readdirSync(absDir).sort(compareNames);
    } catch (e) {
      throw new UserError('context-io', contextMessages['context-io'](this.opts.what, absDir, (e as NodeJS.ErrnoException).code ?? String(e)));
    }
    for (let i = 0; i < names.length; i += BATCH) {
      const batch = names.slice(i, i + BATCH);
      // One string a path: the lstat's observer and the entry keep the same one.
      const paths = batch.map((n) => absDir + '/' + n);
      const stats = paths.map((p) => this.lstat(p));
      noteEntries(out.length + batch.length);
      for (let j = 0; j < batch.length; j++) {
        const st = stats[j];
        if (!st) continue;
        const name = batch[j];
        const childReal = realRel === '' ? name : realRel + '/' + name;
        const childSub = subPath === '' ? name : subPath + '/' + name;
        const isDir = st.isDirectory();
        const ignored = this.opts.ignore?.isExcluded(childReal) ?? false;
        if (ignored && !(isDir && this.opts.ignore!.mayHaveIncludedChildren(childReal))) continue;
        const excluded = this.excludes?.isExcluded(childSub) ?? false;
        if (excluded && !(isDir && this.excludes!.mayHaveIncludedChildren(childSub))) continue;
        const e = this.entry(st, childSub, relBase, paths[j]);
        if (!e) continue;
        if (e.type === 'symlink') e.linkTarget = await readlink(e.absPath);
        if (!isDir) {
          out.push(e);
          continue;
        }
        const at = out.length;
        out.push(e);
        await this.walk(e.absPath, childReal, childSub, relBase, out);
        // An ignored/excluded directory only appears as the parent of something re-included.
        if ((ignored || excluded) && out.length === at + 1) out.pop();
      }
    }
  }
}

function safeMatch(pattern: string, name: string): boolean {
  try {
    return goMatch(pattern, name);
  } catch {
    return false;
  }
}

function entryType(st: Stats): EntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets cannot be archived
}

/** Byte order of UTF-8 names, as Go sorts directory entries. */
function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
