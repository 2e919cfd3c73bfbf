import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../common/index.js';
import { runGit } from './git-cli.js';
import { redacted, remoteMessages } from './messages.js';
import type { RemoteAccess, RemoteSettings } from './settings.js';
import { isCommitSha, type GitSource } from './source.js';

/** A git source with its commit resolved: commit, subdir and keep-git-dir are the key's parts. */
export interface ResolvedGit {
  kind: 'git';
  remote: string;
  /** What is fetched: the ref ls-remote matched (refs/heads/x, refs/tags/v1, HEAD) or a commit. */
  fetchRef: string;
  /** The commit checked out (an annotated tag's commit, not the tag object). */
  commit: string;
  subdir: string;
  keepGitDir: boolean;
  /** Check out submodules too (BuildKit's default; `?submodules=false` skips them). */
  submodules: boolean;
  isSsh: boolean;
}

/**
 * The commit `src` names, as BuildKit resolves it (source/git/source.go resolveMetadata):
 * a full commit sha as it is; otherwise `git ls-remote`, preferring the exact ref, then a
 * branch, then a tag. `checksum` (the flag, or the URL's `?checksum=`) must prefix the commit
 * or the annotated tag object.
 */
export async function resolveGit(
  src: GitSource,
  flags: { checksum?: string; keepGitDir: boolean },
  s: RemoteSettings,
  access: RemoteAccess & { home: string },
): Promise<ResolvedGit> {
  const remote = redacted(src.remote);
  if (flags.checksum !== undefined && src.checksum !== undefined && flags.checksum !== src.checksum) {
    throw new UserError('git-checksum-mismatch', remoteMessages['git-checksum-mismatch'](remote, flags.checksum, src.checksum));
  }
  const checksum = flags.checksum ?? src.checksum;
  if (checksum !== undefined && !/^[0-9a-fA-F]+$/.test(checksum)) throw new UserError('git-bad-checksum', remoteMessages['git-bad-checksum'](checksum));
  if (src.keepGitDir !== undefined && flags.keepGitDir && !src.keepGitDir) {
    throw new UserError('git-bad-query', remoteMessages['git-bad-query'](remote, 'inconsistent keep-git-dir configuration'));
  }
  if (src.isSsh && !access.sshAgent) {
    throw new UserError('git-ssh-needs-agent', remoteMessages['git-ssh-needs-agent'](remote), {
      hint: 'build with --ssh default (an agent at SSH_AUTH_SOCK holding a key the server takes)',
    });
  }
  const base = {
    kind: 'git' as const,
    remote: src.remote,
    subdir: src.subdir,
    keepGitDir: src.keepGitDir ?? flags.keepGitDir,
    submodules: src.submodules ?? true,
    isSsh: src.isSsh,
  };
  const want = checksum?.toLowerCase();
  if (isCommitSha(src.ref)) {
    if (want !== undefined && !src.ref.startsWith(want)) throw new UserError('git-checksum-mismatch', remoteMessages['git-checksum-mismatch'](remote, want, src.ref));
    return { ...base, fetchRef: src.ref, commit: src.ref };
  }
  const ref = src.ref === '' ? 'HEAD' : src.ref;
  const out = await runGit(['ls-remote', '--', src.remote, ref, `${ref}^{}`], { remote, what: 'ls-remote', home: access.home, settings: s, access });
  const found = matchRef(out, ref);
  if (!found) throw new UserError('git-no-ref', remoteMessages['git-no-ref'](remote, ref));
  if (want !== undefined && !found.sha.startsWith(want) && !found.peeled?.startsWith(want)) {
    throw new UserError('git-checksum-mismatch', remoteMessages['git-checksum-mismatch'](remote, want, found.peeled ? `${found.sha} or ${found.peeled}` : found.sha));
  }
  return { ...base, fetchRef: found.ref, commit: found.peeled ?? found.sha };
}

/** ls-remote's lines for `ref`: the ref itself, else refs/heads/ref, else refs/tags/ref (peeled when annotated). */
function matchRef(out: string, ref: string): { ref: string; sha: string; peeled?: string } | undefined {
  const bare = ref.replace(/^refs\//, '');
  const exact = ref === 'HEAD' ? 'HEAD' : `refs/${bare}`;
  const head = `refs/heads/${ref.replace(/^refs\/heads\//, '')}`;
  const tag = `refs/tags/${ref.replace(/^refs\/tags\//, '')}`;
  const shas = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [sha, name] = line.split('\t');
    if (sha && name && isCommitSha(sha)) shas.set(name, sha);
  }
  for (const name of [exact, head]) {
    const sha = shas.get(name);
    if (sha) return { ref: name, sha };
  }
  const sha = shas.get(tag);
  if (sha) return { ref: tag, sha, ...(shas.has(`${tag}^{}`) ? { peeled: shas.get(`${tag}^{}`) } : {}) };
  return undefined;
}

/**
 * The resolved commit checked out under `dir` (BuildKit's Snapshot: fetch the ref, shallow
 * when the server allows, then check out the commit the key was made of). Returns the
 * directory ADD copies the contents of, relative to `dir`: the checkout, or its subdir.
 * `.git` stays only with keep-git-dir.
 */
export async function checkoutGit(r: ResolvedGit, dir: string, s: RemoteSettings, access: RemoteAccess): Promise<string> {
  const remote = redacted(r.remote);
  const git = (what: string, args: string[]) => runGit(args, { remote, what, cwd: join(dir, 'repo'), home: dir, settings: s, access });
  await runGit(['init', '-q', 'repo'], { remote, what: 'init', cwd: dir, home: dir, settings: s, access });
  await git('remote add', ['remote', 'add', 'origin', r.remote]);
  const refspec = isCommitSha(r.fetchRef) ? r.fetchRef : `+${r.fetchRef}:refs/tsbuild/source`;
  try {
    await git('fetch', ['fetch', '-q', '--depth=1', '--no-tags', 'origin', refspec]);
  } catch {
    // A dumb HTTP server cannot serve a shallow fetch, and not every server lets a commit be
    // fetched by its sha: the whole history then (BuildKit falls back the same way).
    await git('fetch', ['fetch', '-q', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*']);
  }
  try {
    await git('checkout', ['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', r.commit]);
  } catch {
    // The ref moved since it was resolved: the commit the key names may still be in the history.
    await git('fetch', ['fetch', '-q', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*']);
    await git('checkout', ['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', r.commit]);
  }
  const hasSubmodules = r.submodules && (await stat(join(dir, 'repo', '.gitmodules')).catch(() => undefined)) !== undefined;
  if (hasSubmodules) {
    try {
      await git('submodule update', ['submodule', 'update', '-q', '--init', '--recursive', '--depth=1']);
    } catch {
      await git('submodule update', ['submodule', 'update', '-q', '--init', '--recursive']);
    }
  }
  if (!r.keepGitDir) {
    if (hasSubmodules) await removeGitDirs(join(dir, 'repo'));
    else await rm(join(dir, 'repo', '.git'), { recursive: true, force: true });
  }
  const rel = r.subdir === '' ? 'repo' : `repo/${r.subdir}`;
  const st = await stat(join(dir, rel)).catch(() => undefined);
  if (!st?.isDirectory()) throw new UserError('git-no-subdir', remoteMessages['git-no-subdir'](remote, r.subdir));
  return rel;
}

/** `.git` of the checkout and of every submodule in it (a directory, or a submodule's gitlink file). */
async function removeGitDirs(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === '.git') await rm(join(dir, e.name), { recursive: true, force: true });
    else if (e.isDirectory()) await removeGitDirs(join(dir, e.name));
  }
}
