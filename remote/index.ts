/**
 * remote/: sources that are not on this machine — a file over HTTP(S) and a git repository,
 * as BuildKit's http and git sources fetch them. Two steps: `resolveRemote` finds what a
 * source holds now (a content digest, a commit) for the cache key, asking the server as
 * little as it can; `materialiseRemote` puts that content in a directory to copy from. It
 * knows nothing of Dockerfiles or steps, and reads no process.env (RemoteSettings).
 */
import { rm } from 'node:fs/promises';
import type { Store } from '../store/index.js';
import { checkoutGit, resolveGit, type ResolvedGit } from './git-source.js';
import { materialiseHttp, resolveHttp, type ResolvedHttp } from './http-source.js';
import type { RemoteAccess, RemoteSettings } from './settings.js';
import type { RemoteSource } from './source.js';

export { parseRemoteSource, type RemoteSource, type HttpSource, type GitSource } from './source.js';
export { plainRemoteSettings, type RemoteSettings, type RemoteAccess } from './settings.js';
export type { ResolvedHttp, ResolvedGit };
export { remoteMessages } from './messages.js';

export type ResolvedRemote = ResolvedHttp | ResolvedGit;

/** The flags of the ADD that names the source. */
export interface RemoteFlags {
  /** `--checksum`: sha256:… for HTTP, a commit sha prefix for git. */
  checksum?: string;
  keepGitDir: boolean;
}

/** What `src` holds now: HTTP content digest (fetched, or a conditional GET), git commit (ls-remote). */
export async function resolveRemote(store: Store, src: RemoteSource, flags: RemoteFlags, s: RemoteSettings, access: RemoteAccess = {}): Promise<ResolvedRemote> {
  if (src.kind === 'http') return resolveHttp(store, src, flags.checksum, s);
  const home = await store.makeTempDir('git-');
  try {
    return await resolveGit(src, flags, s, { ...access, home });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** The parts of a resolved source a cache key is made of (no URL: the content names itself). */
export function remoteKeyOf(r: ResolvedRemote): Record<string, unknown> {
  if (r.kind === 'http') return { http: r.digest, filename: r.filename, ...(r.lastModified ? { lastModified: r.lastModified } : {}) };
  // BuildKit's shaToCacheKey marks a checkout without submodules; one with them keeps the old key.
  return { git: r.commit, subdir: r.subdir, keepGitDir: r.keepGitDir, ...(r.submodules ? {} : { submodules: false }) };
}

/**
 * Put `r`'s content in the empty directory `dir`; returns the path (relative to `dir`) an ADD
 * copies: the downloaded file, or the checked-out directory whose contents it copies.
 */
export function materialiseRemote(store: Store, r: ResolvedRemote, dir: string, s: RemoteSettings, access: RemoteAccess = {}): Promise<string> {
  return r.kind === 'http' ? materialiseHttp(store, r, dir, s) : checkoutGit(r, dir, s, access);
}
