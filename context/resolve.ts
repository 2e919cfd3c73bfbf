import { lstat, readlink } from 'node:fs/promises';
import { lstatSync, type Stats } from 'node:fs';
import { UserError } from '../common/index.js';
import { contextMessages } from './messages.js';

/**
 * Resolve a path inside `root` the way containerd's fs.RootPath does for BuildKit: `..`
 * never climbs above the root, absolute symlink targets are relative to the root, so no
 * symlink ever leads out of it. `realRel` is the resolved path relative to the root ('' for
 * the root itself); `stat` is its lstat, or undefined when it does not exist.
 * `isHidden(realRel)` lets the caller treat a path as absent (a .dockerignore'd symlink).
 */
export async function resolveInRoot(
  root: string,
  path: string,
  opts: { followFinal: boolean; isHidden?: (realRel: string, st: Stats) => boolean; observe?: StatObserver },
): Promise<{ realRel: string; stat: Stats | undefined }> {
  const look = async (p: string) => {
    const st = await lstatOrUndefined(p);
    opts.observe?.(p, st);
    return st;
  };
  const queue = splitPath(path);
  const resolved: string[] = [];
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, c].join('/');
    const st = await look(root + '/' + candidate);
    if (!st || (opts.isHidden && opts.isHidden(candidate, st))) {
      return { realRel: [candidate, ...queue].join('/'), stat: undefined };
    }
    if (st.isSymbolicLink() && (queue.length > 0 || opts.followFinal)) {
      if (++links > 255) throw new UserError('context-symlink-loop', contextMessages['context-symlink-loop'](path));
      const target = await readlink(root + '/' + candidate);
      if (target.startsWith('/')) resolved.length = 0;
      queue.unshift(...splitPath(target));
      continue;
    }
    if (queue.length > 0 && !st.isDirectory()) return { realRel: [candidate, ...queue].join('/'), stat: undefined };
    resolved.push(c);
  }
  const realRel = resolved.join('/');
  return { realRel, stat: await look(realRel === '' ? root : root + '/' + realRel) };
}

function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s !== '' && s !== '.');
}

/**
 * Told of every lstat a context walk makes (undefined: the path does not exist). What a
 * selection's walk saw is all it depends on: a directory's stat changes when an entry is
 * added or removed, a file's when its bytes or metadata change (cli/build-replay.ts).
 */
export type StatObserver = (absPath: string, st: Stats | undefined) => void;

export async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * The same, synchronously: a walk's lstats of many entries whose dentries are in the cache
 * (bench/RESULTS.md, "Measurements behind the code").
 */
export function lstatSyncOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}
