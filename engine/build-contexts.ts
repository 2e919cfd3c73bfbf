import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError, isDigest, type SourceRange } from '../common/index.js';
import type { ContextDir } from '../executor/index.js';
import type { BaseImage, NamedContext, NamedContextResolver } from '../planner/index.js';
import { parseRemoteSource, type RemoteAccess, type RemoteSettings } from '../remote/index.js';
import { importLayoutImage, normaliseName, type Store } from '../store/index.js';
import { fetchRemoteContext } from './remote-context.js';

/**
 * `--build-context NAME=SOURCE` (buildx): what `FROM NAME`, `COPY --from=NAME`,
 * `RUN --mount=from=NAME` and a stage called NAME stand for instead.
 */
export type BuildContextSource =
  /** A local directory, filtered by its own .dockerignore. */
  | { type: 'dir'; path: string }
  /** `docker-image://REF`: an image, from the store or pulled. */
  | { type: 'image'; ref: string }
  /** `oci-layout://PATH[:TAG][@DIGEST]`: an image of a local OCI layout (TAG defaults to latest). */
  | { type: 'oci-layout'; path: string; tag?: string; digest?: string }
  /** `https://…` (a tarball or a git repository), `git@…`. */
  | { type: 'url'; url: string };

export const buildContextMessages = {
  'bad-name': (name: string) => `invalid context name ${JSON.stringify(name)}: want a stage or image name`,
  'path-missing': (name: string, path: string) => `--build-context ${name}: path ${JSON.stringify(path)} not found`,
  'not-dir': (name: string, path: string) => `--build-context ${name}: ${JSON.stringify(path)} is not a directory`,
  'bad-digest': (name: string, d: string) => `--build-context ${name}: invalid digest ${JSON.stringify(d)} (want sha256:<64 hex>)`,
  'bad-url': (name: string, url: string) => `--build-context ${name}=${url}: not an http(s) URL or a git repository`,
} satisfies Record<string, (...args: never[]) => string>;

/** Every named context, ready for the planner (`resolve`) and the executor (`dirs`). */
export interface PreparedContexts {
  resolve: NamedContextResolver | undefined;
  dirs: ReadonlyMap<string, ContextDir>;
  /** Keep what the directories' hashers learnt (their stat memos). */
  save(): Promise<void>;
  /** Remove what remote contexts were fetched into (the build is over). */
  dispose(): Promise<void>;
}

/**
 * The key of a context or a `FROM`/`--from` word: buildx's ParseContextNames and BuildKit's
 * NamedContext both compare the normalised reference (`alpine` = `docker.io/library/alpine:latest`).
 */
function keyOf(name: string): string | undefined {
  try {
    return normaliseName(name);
  } catch {
    return undefined;
  }
}

/**
 * Check every `--build-context` before the build starts (a directory must exist), and
 * resolve each image or remote source only when the Dockerfile first uses it.
 */
export async function prepareBuildContexts(
  store: Store,
  contexts: Record<string, BuildContextSource>,
  o: {
    cwd: string;
    resolveImage(ref: string, where: SourceRange): Promise<BaseImage>;
    makeHasher(dir: string, what: string): Promise<{ hash: Extract<NamedContext, { kind: 'dir' }>['hash']; ignore?: ContextDir['ignore']; save(): Promise<void> }>;
    remote: RemoteSettings;
    access: RemoteAccess;
    /** A remote context is about to be fetched. */
    fetched?(): void;
  },
): Promise<PreparedContexts> {
  const entries = Object.entries(contexts);
  if (entries.length === 0) return { resolve: undefined, dirs: new Map(), save: async () => {}, dispose: async () => {} };
  const dirs = new Map<string, ContextDir>();
  const savers: (() => Promise<void>)[] = [];
  const disposers: (() => Promise<void>)[] = [];
  const found = new Map<string, (where: SourceRange) => Promise<NamedContext>>();
  for (const [name, source] of entries) {
    const key = keyOf(name);
    if (key === undefined) throw new UserError('usage', buildContextMessages['bad-name'](name), { exitCode: 2 });
    switch (source.type) {
      case 'dir': {
        const path = resolve(o.cwd, source.path);
        const st = await stat(path).catch(() => undefined);
        if (!st) throw new UserError('context-missing', buildContextMessages['path-missing'](name, source.path), { where: source.path });
        if (!st.isDirectory()) throw new UserError('context-missing', buildContextMessages['not-dir'](name, source.path), { where: source.path });
        const hasher = await o.makeHasher(path, `build context ${JSON.stringify(name)}`);
        dirs.set(key, { dir: path, ignore: hasher.ignore });
        savers.push(hasher.save);
        const named: NamedContext = { kind: 'dir', name: key, label: name, hash: hasher.hash };
        found.set(key, async () => named);
        break;
      }
      case 'image':
        found.set(key, once(async (where) => ({ kind: 'image', image: await o.resolveImage(source.ref, where) })));
        break;
      case 'oci-layout': {
        const path = resolve(o.cwd, source.path);
        const digest = source.digest;
        if (digest !== undefined && !isDigest(digest)) throw new UserError('usage', buildContextMessages['bad-digest'](name, digest), { exitCode: 2 });
        found.set(
          key,
          once(async (where) => {
            const img = await importLayoutImage(store, path, { tag: digest ? source.tag : source.tag ?? 'latest', digest }).catch((e: unknown) => {
              // Said at the instruction that first uses it.
              throw e instanceof UserError ? new UserError(e.code, e.message, { where, hint: e.hint }) : e;
            });
            const ref = `oci-layout://${source.path}${source.tag ? `:${source.tag}` : ''}${source.digest ? `@${source.digest}` : ''}`;
            return { kind: 'image', image: { ref, id: img.id, manifestDigest: img.manifestDigest, config: img.config, layers: img.manifest.layers } };
          }),
        );
        break;
      }
      case 'url': {
        const remote = parseRemoteSource(source.url);
        if (remote === undefined) throw new UserError('usage', buildContextMessages['bad-url'](name, source.url), { exitCode: 2 });
        // Fetched when the Dockerfile first uses it (as an image context is pulled), then a
        // directory context like any other: its cache keys come from the fetched content.
        found.set(
          key,
          once(async (where) => {
            o.fetched?.();
            const fetched = await fetchRemoteContext(store, name, remote, o.remote, o.access).catch((e: unknown) => {
              throw e instanceof UserError ? new UserError(e.code, e.message, { where, hint: e.hint }) : e;
            });
            disposers.push(fetched.dispose);
            const hasher = await o.makeHasher(fetched.dir, `build context ${JSON.stringify(name)}`);
            dirs.set(key, { dir: fetched.dir, ignore: hasher.ignore });
            // No hasher.save(): the directory is a fresh temporary one every build.
            return { kind: 'dir', name: key, label: name, hash: hasher.hash };
          }),
        );
        break;
      }
      default:
        return unknownSource(source);
    }
  }
  return {
    resolve: async (name, where) => {
      const key = keyOf(name);
      const get = key === undefined ? undefined : found.get(key);
      return get?.(where);
    },
    dirs,
    save: async () => {
      for (const s of savers) await s();
    },
    dispose: async () => {
      for (const d of disposers) await d();
    },
  };
}

function unknownSource(x: never): never {
  throw new Error(`[internal] build context source ${JSON.stringify(x)}`);
}

/** `f` run once (an image context is pulled or imported on first use, then shared). */
function once<T>(f: (where: SourceRange) => Promise<T>): (where: SourceRange) => Promise<T> {
  let p: Promise<T> | undefined;
  return (where) => (p ??= f(where));
}
