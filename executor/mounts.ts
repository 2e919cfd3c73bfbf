import { chmod, chown, copyFile, lstat, mkdir, readdir, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { UserError, unreachable } from '../common/index.js';
import type { ExecStep, MountFrom, PlannedMount } from '../planner/index.js';
import type { Matcher } from '../context/index.js';
import type { Store } from '../store/index.js';
import { layerDirs, withRootfsView, type LayerDirSource } from './rootfs-view.js';
import type { StageState } from './stage-state.js';
import { copyTree } from './copy-tree.js';


/**
 * A RUN's `--mount`s made real for one container run: binds (context, stage, image, cache
 * dirs, secret files, the ssh agent), tmpfs mounts, and extra environment. Everything
 * lives only while `fn` runs: views are unmounted, rw copies and secret files removed,
 * `locked` cache mounts released.
 */

export interface MountSources {
  store: Store;
  /** Where a bind from a stage or image finds its layer dirs. */
  layers: LayerDirSource;
  contextDir: string | undefined;
  stageResult(index: number): Promise<StageState>;
  /** `--secret id=…`: values by id. */
  secrets: ReadonlyMap<string, Uint8Array>;
  /** Where secret files are written: the step's private tmpfs (step-private.ts), never a disk. */
  secretsDir: string;
  /** `--ssh id[=socket]`: agent socket paths by id. */
  ssh: ReadonlyMap<string, string>;
  /** The context's .dockerignore: what it excludes is not in a context bind either. */
  ignore?: Matcher;
  /** `--build-context` directories by name, each with its own .dockerignore. */
  namedContexts?: ReadonlyMap<string, ContextDir>;
}

/** A directory a step reads as a build context, and what its .dockerignore excludes. */
export interface ContextDir {
  dir: string;
  ignore?: Matcher;
}

/** The build context, or the named one, a `context` source means. */
function contextDirOf(from: Extract<MountFrom, { kind: 'context' }>, src: MountSources): ContextDir | undefined {
  if (from.name === undefined) return src.contextDir === undefined ? undefined : { dir: src.contextDir, ignore: src.ignore };
  const named = src.namedContexts?.get(from.name);
  if (!named) throw new Error(`[internal] no build context named ${from.name}`);
  return named;
}

export interface PreparedMounts {
  binds: { source: string; target: string; readonly: boolean }[];
  tmpfs: { target: string; sizeBytes?: number }[];
  /** `K=V` added to the command's environment only (never to history). */
  env: string[];
  /** Values to mask in the step's output. */
  secrets: string[];
}

function missing(step: ExecStep, message: string, hint?: string): UserError {
  return new UserError('mount-source', message, { where: step.origin, hint });
}

/** `source` inside `root`, refusing anything that resolves outside it (symlinks included). */
async function inside(step: ExecStep, root: string, source: string, what: string): Promise<string> {
  const realRoot = await realpath(root);
  const path = join(realRoot, source);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw missing(step, `RUN --mount: source "${source}" not found in ${what}`);
  }
  const rel = relative(realRoot, real);
  if (rel.startsWith('..') || rel.startsWith(sep)) throw missing(step, `RUN --mount: source "${source}" points outside ${what}`);
  return real;
}

/** Run `fn` with the root dir of a bind's `from` (a read-only view while it runs). */
async function withFromRoot<T>(
  step: ExecStep,
  from: MountFrom,
  src: MountSources,
  fn: (root: string, what: string) => Promise<T>,
): Promise<T> {
  switch (from.kind) {
    case 'context': {
      const ctx = contextDirOf(from, src);
      if (ctx === undefined) throw missing(step, 'RUN --mount: no build context to bind from (the Dockerfile came on stdin)');
      return fn(ctx.dir, from.name === undefined ? 'the build context' : `the build context ${from.name}`);
    }
    case 'stage':
    case 'image': {
      const state: Pick<StageState, 'layers' | 'config'> =
        from.kind === 'stage' ? await src.stageResult(from.stage) : { layers: from.image.layers, config: from.image.config };
      const dirs = await layerDirs(src.layers, state.layers, state.config.rootfs.diff_ids);
      const what = from.kind === 'stage' ? `stage ${from.stage}` : `image ${from.image.ref}`;
      return withRootfsView(src.store, dirs, async (root) => {
        if (root === undefined) {
          const empty = await src.store.makeTempDir('empty-');
          try {
            return await fn(empty, what);
          } finally {
            await rm(empty, { recursive: true, force: true });
          }
        }
        return fn(root, what);
      });
    }
    default:
      return unreachable(from);
  }
}

/** What a context dir holds once .dockerignore applies: kept paths (relative to `dir`), and whether any was excluded. */
async function contextEntries(contextRoot: string, dir: string, ignore: Matcher): Promise<{ keep: string[]; excluded: boolean }> {
  const realRoot = await realpath(contextRoot);
  const keep: string[] = [];
  let excluded = false;
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const relHere = rel ? `${rel}/${e.name}` : e.name;
      const fromRoot = relative(realRoot, join(dir, relHere)).split(sep).join('/');
      const isDir = e.isDirectory();
      if (ignore.isExcluded(fromRoot, isDir)) {
        excluded = true;
        if (!isDir || !ignore.mayHaveIncludedChildren(fromRoot)) continue;
      }
      keep.push(relHere);
      if (isDir) await walk(relHere);
    }
  };
  await walk('');
  return { keep, excluded };
}

/** Copy the kept entries (dirs before their contents) of `source` into a new dir `dest`. */
async function copyEntries(source: string, keep: readonly string[], dest: string): Promise<void> {
  await mkdir(dest);
  await chmod(dest, (await stat(source)).mode & 0o7777);
  for (const rel of keep) {
    const from = join(source, rel);
    const to = join(dest, rel);
    const st = await lstat(from);
    if (st.isDirectory()) {
      await mkdir(to, { recursive: true });
      await chmod(to, st.mode & 0o7777);
    } else if (st.isSymbolicLink()) await symlink(await readlink(from), to);
    else if (st.isFile()) await copyFile(from, to);
    // Sockets, fifos, devices of a context are not bound.
  }
}

/** `source`'s contents into the dir `dest`, or the file `source` as `dest`. */
function copyInto(source: string, dest: string): Promise<void> {
  return copyTree(source, dest);
}

/** A cache mount by its `sharing`: the store's dir (locked or claimed as needed), or a throwaway one at `spare`. */
async function withCacheMount<T>(
  step: ExecStep,
  m: Extract<PlannedMount, { type: 'cache' }>,
  spare: string,
  src: MountSources,
  prepared: PreparedMounts,
  next: () => Promise<T>,
): Promise<T> {
  const from = m.from;
  const seed = from
    ? (dir: string) => withFromRoot(step, from, src, async (root, what) => copyInto(await inside(step, root, m.source, what), dir))
    : undefined;
  const data = await src.store.cacheMounts.ensure(m.dirKey, { mode: m.mode, uid: m.uid, gid: m.gid, seed });
  switch (m.sharing) {
    case 'shared':
      prepared.binds.push({ source: data, target: m.target, readonly: m.readonly });
      return next();
    case 'locked':
      prepared.binds.push({ source: data, target: m.target, readonly: m.readonly });
      return src.store.cacheMounts.withLock(m.dirKey, next);
    case 'private': {
      const release = await src.store.cacheMounts.claim(m.dirKey);
      if (!release) {
        // In use elsewhere: this step gets a fresh, throwaway one (BuildKit makes a new one).
        await mkdir(spare);
        if (seed) await seed(spare);
        await chown(spare, m.uid, m.gid);
        await chmod(spare, m.mode);
        prepared.binds.push({ source: spare, target: m.target, readonly: m.readonly });
        return next();
      }
      prepared.binds.push({ source: data, target: m.target, readonly: m.readonly });
      try {
        return await next();
      } finally {
        await release();
      }
    }
    default:
      return unreachable(m.sharing);
  }
}

export async function withMounts<T>(step: ExecStep, src: MountSources, fn: (m: PreparedMounts) => Promise<T>): Promise<T> {
  const prepared: PreparedMounts = { binds: [], tmpfs: [], env: [], secrets: [] };
  if (step.mounts.length === 0) return fn(prepared);
  // Copies of context and stage files (rw binds, filtered contexts): the store's disk, in
  // this process's temp area, so a killed build's copies go at the next open.
  const scratch = await src.store.makeTempDir('mounts-');
  try {
    const step1 = async (i: number): Promise<T> => {
      if (i === step.mounts.length) return fn(prepared);
      const m: PlannedMount = step.mounts[i];
      const next = () => step1(i + 1);
      switch (m.type) {
        case 'bind':
          return withFromRoot(step, m.from, src, async (root, what) => {
            let source = await inside(step, root, m.source, what);
            const ignore = m.from.kind === 'context' ? contextDirOf(m.from, src)?.ignore : undefined;
            const entries = ignore && (await stat(source)).isDirectory() ? await contextEntries(root, source, ignore) : undefined;
            if (entries?.excluded) {
              // The bind shows the context as a COPY sees it: a filtered copy (rw or not).
              const copy = join(scratch, `ctx-${i}`);
              await copyEntries(source, entries.keep, copy);
              source = copy;
            } else if (!m.readonly) {
              // `rw`: writes go to a throwaway copy.
              const isDir = (await stat(source)).isDirectory();
              const copy = join(scratch, isDir ? `rw-${i}` : `rw-${i}.file`);
              if (isDir) await mkdir(copy);
              await copyInto(source, copy);
              source = copy;
            }
            prepared.binds.push({ source, target: m.target, readonly: m.readonly });
            return next();
          });
        case 'cache':
          return withCacheMount(step, m, join(scratch, `cache-${i}`), src, prepared, next);
        case 'tmpfs':
          prepared.tmpfs.push({ target: m.target, sizeBytes: m.sizeBytes });
          return next();
        case 'secret': {
          const value = src.secrets.get(m.id);
          if (value === undefined) {
            if (m.required) throw missing(step, `RUN --mount=type=secret: secret "${m.id}" is required but was not given`, `pass it with --secret id=${m.id},src=FILE`);
            return next();
          }
          const text = Buffer.from(value).toString('utf8');
          for (const t of new Set([text, text.trim()])) if (t) prepared.secrets.push(t);
          if (m.env !== undefined) prepared.env.push(`${m.env}=${text}`);
          if (m.target !== undefined) {
            const file = join(src.secretsDir, `secret-${i}`);
            await writeFile(file, value, { mode: 0o600 });
            await chown(file, m.uid, m.gid);
            await chmod(file, m.mode);
            prepared.binds.push({ source: file, target: m.target, readonly: true });
          }
          return next();
        }
        case 'ssh': {
          const sock = src.ssh.get(m.id);
          if (sock === undefined) {
            if (m.required) throw missing(step, `RUN --mount=type=ssh: no ssh agent "${m.id}" was given`, `pass it with --ssh ${m.id}`);
            return next();
          }
          prepared.binds.push({ source: sock, target: m.target, readonly: false });
          if (!step.env.some((e) => e.startsWith('SSH_AUTH_SOCK='))) prepared.env.push(`SSH_AUTH_SOCK=${m.target}`);
          return next();
        }
        default:
          return unreachable(m);
      }
    };
    return await step1(0);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Masks secrets in a stream of output chunks, also when a value is split between two
 * chunks: a chunk's tail that begins some secret is held back until the next chunk (or
 * `flush`) shows whether it is one.
 */
export class SecretMasker {
  private held = '';
  /** Keeps a UTF-8 sequence split between chunks whole. */
  private readonly decoder = new StringDecoder('utf8');
  constructor(private readonly secrets: readonly string[]) {}

  push(chunk: Uint8Array): Uint8Array {
    if (this.secrets.length === 0) return chunk;
    let text = this.held + this.decoder.write(Buffer.from(chunk));
    for (const s of this.secrets) text = text.split(s).join('****');
    let keep = 0;
    for (const s of this.secrets) {
      for (let n = Math.min(s.length - 1, text.length); n > keep; n--) {
        if (text.endsWith(s.slice(0, n))) {
          keep = n;
          break;
        }
      }
    }
    this.held = text.slice(text.length - keep);
    return Buffer.from(text.slice(0, text.length - keep), 'utf8');
  }

  flush(): Uint8Array {
    if (this.secrets.length === 0) return new Uint8Array(0);
    let rest = this.held + this.decoder.end();
    for (const s of this.secrets) rest = rest.split(s).join('****');
    this.held = '';
    return Buffer.from(rest, 'utf8');
  }
}
