import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { materialiseRemote, resolveRemote, type RemoteAccess, type RemoteSettings, type RemoteSource } from '../remote/index.js';
import type { Store } from '../store/index.js';

/** A remote build context on disk: `dir` is what `COPY --from=NAME .` copies. */
export interface FetchedContext {
  dir: string;
  dispose(): Promise<void>;
}

/**
 * `--build-context NAME=URL` fetched into a temporary directory of the store. A git URL is
 * checked out (`#ref:subdir` as ADD reads it, without .git), as BuildKit's
 * frontend/dockerui/namedcontext.go does with DetectGitContext. An HTTP file, a tarball too,
 * is the context's one file, named `context` (namedcontext.go: llb.HTTP with
 * llb.Filename("context"); buildx passes the URL through, build/opt.go): not unpacked.
 */
export async function fetchRemoteContext(store: Store, name: string, src: RemoteSource, s: RemoteSettings, access: RemoteAccess): Promise<FetchedContext> {
  const tmp = await store.makeTempDir('build-context-');
  const dispose = () => rm(tmp, { recursive: true, force: true });
  try {
    const fetched = join(tmp, 'fetched');
    await mkdir(fetched);
    const resolved = await resolveRemote(store, src, { keepGitDir: false }, s, access);
    const rel = await materialiseRemote(store, resolved, fetched, s, access);
    if (resolved.kind === 'git') return { dir: join(fetched, rel), dispose };
    const file = join(fetched, rel);
    const dir = join(tmp, 'context');
    await mkdir(dir);
    await rename(file, join(dir, 'context'));
    return { dir, dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}
