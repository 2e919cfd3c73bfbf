import { UserError } from '../common/index.js';
import { remoteMessages } from './messages.js';

/** An ADD source that is not in the build context: a file over HTTP(S), or a git repository. */
export type RemoteSource = HttpSource | GitSource;

export interface HttpSource {
  kind: 'http';
  url: string;
  /** The name the file gets: the URL path's last component (BuildKit's dispatchCopy). */
  filename: string;
}

export interface GitSource {
  kind: 'git';
  /** What `git` is given: the URL without fragment and query. */
  remote: string;
  /** A branch, tag or commit (empty: the remote's HEAD). */
  ref: string;
  /** A directory inside the repository, without leading or trailing slash ('' = the root). */
  subdir: string;
  /** ssh:// and user@host:path need an ssh agent. */
  isSsh: boolean;
  /** `?checksum=` / `?commit=` in the URL: a commit sha prefix. */
  checksum?: string;
  /** `?keep-git-dir=` in the URL. */
  keepGitDir?: boolean;
  /** `?submodules=false` in the URL: submodules are left empty (fetched by default). */
  submodules?: boolean;
}

const PROTO = /^([a-zA-Z0-9]+):\/\//;
// BuildKit's util/sshutil/scpurl.go gitSSHRegex.
const SCP = /^([a-zA-Z0-9-_]+)@([a-zA-Z0-9-.]+):(.*?)(?:\?(.*?))?(?:#(.*))?$/;

/**
 * Whether an ADD/COPY source is remote, as BuildKit decides (frontend/dockerfile/dfgitutil/
 * git_ref.go ParseGitRef, dockerfile2llb/convert_copy.go isHTTPSource): git for ssh://,
 * git://, user@host:path and http(s) URLs whose path ends in `.git`; HTTP for the other
 * http(s) URLs; anything else (other schemes included) is a context path. A git ref that
 * cannot be used is a UserError.
 */
export function parseRemoteSource(src: string): RemoteSource | undefined {
  if (src.startsWith('./') || src.startsWith('../')) return undefined;
  const proto = PROTO.exec(src)?.[1].toLowerCase();
  if (proto !== undefined) {
    if (!['http', 'https', 'ssh', 'git'].includes(proto)) return undefined;
    let u: URL;
    try {
      u = new URL(src);
    } catch {
      throw new UserError('remote-bad-url', remoteMessages['remote-bad-url'](src));
    }
    const isHttp = proto === 'http' || proto === 'https';
    if (isHttp && !u.pathname.endsWith('.git')) return { kind: 'http', url: src, filename: httpFilename(u) };
    const fragment = decodeURIComponent(u.hash.replace(/^#/, ''));
    const query = new URLSearchParams(u.search); // a copy: clearing u.search empties u.searchParams
    u.hash = '';
    u.search = '';
    return gitSource(src, u.toString(), fragment, query, proto === 'ssh');
  }
  const scp = SCP.exec(src);
  if (!scp) return undefined;
  const remote = `${scp[1]}@${scp[2]}:${scp[3]}`;
  return gitSource(src, remote, scp[5] ?? '', new URLSearchParams(scp[4] ?? ''), true);
}

/** BuildKit's dispatchCopy: `path.Base(u.Path)`, or `__unnamed__` when that is `.` or `/`. */
function httpFilename(u: URL): string {
  const path = decodeURIComponent(u.pathname).replace(/\/+$/, '');
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base === '' || base === '.' ? '__unnamed__' : base;
}

/** `#ref:subdir` and the query keys BuildKit reads (git_ref.go loadQuery). */
function gitSource(src: string, remote: string, fragment: string, query: URLSearchParams, isSsh: boolean): GitSource {
  const colon = fragment.indexOf(':');
  let ref = colon < 0 ? fragment : fragment.slice(0, colon);
  let subdir = colon < 0 ? '' : cleanSubdir(fragment.slice(colon + 1));
  const out: GitSource = { kind: 'git', remote, ref, subdir, isSsh };
  const conflict = (what: string, a: string, b: string) => new UserError('git-ref-conflict', remoteMessages['git-ref-conflict'](src, what, a, b));
  let tag = '';
  let branch = '';
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    if (values.length > 1) throw new UserError('git-bad-query', remoteMessages['git-bad-query'](src, `query "${key}" has multiple values`));
    const v = values[0];
    switch (key) {
      case 'ref':
        if (ref !== '' && ref !== v) throw conflict('ref', ref, v);
        ref = v;
        break;
      case 'tag':
        tag = v.startsWith('refs/tags/') ? v : `refs/tags/${v}`;
        break;
      case 'branch':
        branch = v.startsWith('refs/heads/') ? v : `refs/heads/${v}`;
        break;
      case 'subdir':
        if (subdir !== '' && subdir !== cleanSubdir(v)) throw conflict('subdir', subdir, v);
        subdir = cleanSubdir(v);
        break;
      case 'checksum':
      case 'commit':
        out.checksum = v;
        break;
      case 'keep-git-dir':
        out.keepGitDir = boolValue(src, key, v);
        break;
      case 'submodules':
        out.submodules = boolValue(src, key, v);
        break;
      default:
        throw new UserError('git-bad-query', remoteMessages['git-bad-query'](src, `query "${key}" is not supported`), {
          hint: 'tsbuild reads ref, tag, branch, subdir, checksum (commit), keep-git-dir and submodules',
        });
    }
  }
  if (tag && branch) throw new UserError('git-bad-query', remoteMessages['git-bad-query'](src, 'branch conflicts with tag'));
  for (const r of [tag, branch]) {
    if (r === '') continue;
    if (ref !== '' && ref !== r) throw conflict('ref', ref, r);
    ref = r;
  }
  out.ref = ref;
  out.subdir = subdir;
  return out;
}

function cleanSubdir(s: string): string {
  const parts: string[] = [];
  for (const p of s.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts.join('/');
}

function boolValue(src: string, key: string, v: string): boolean {
  if (v === '' || /^(1|t|true)$/i.test(v)) return true;
  if (/^(0|f|false)$/i.test(v)) return false;
  throw new UserError('git-bad-query', remoteMessages['git-bad-query'](src, `invalid ${key} value: "${v}"`));
}

/** A full commit sha (SHA-1 or SHA-256 object names), as BuildKit's gitutil.IsCommitSHA. */
export function isCommitSha(s: string): boolean {
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(s);
}
