/**
 * `docker cp`: files between a container and the host, both ways, with cp -a's modes and
 * times; owners become the receiving side's (root in the container, the caller on the
 * host), as Docker sets them. A running container is reached through its pid 1's root; a
 * stopped one through an overlay of its layer on the image. Paths inside the container
 * are resolved inside it: its symlinks never lead out to the host.
 */
import { lchown, lstat, readdir, readlink, rm, stat } from 'node:fs/promises';
import { basename, join, posix, resolve } from 'node:path';
import { UserError } from '../common/index.js';
import { isHelperAlive, type ContainerRecord, type Store } from '../store/index.js';
import { findContainer } from './containers.js';
import type { CallOptions } from './images.js';
import { openStoreOf } from './store-option.js';
import { settingsFromEnv } from './settings.js';

export const copyMessages = {
  'no-container': () => 'must specify at least one container source',
  'both-containers': () => 'copying between containers is not supported',
  'not-in-container': (path: string, id: string) => `Could not find the file ${path} in container ${id}`,
  'no-host-file': (path: string) => `lstat ${path}: no such file or directory`,
  'dest-dir-missing': (path: string) => `destination directory ${path} must exist (the path ends with /)`,
  'dir-to-file': (path: string) => `cannot copy a directory to a file: ${path}`,
  'no-parent': (path: string) => `no such directory: ${path}`,
  'relative-in-container': (path: string) => `the path in the container must be absolute: ${path}`,
} satisfies Record<string, (...args: never[]) => string>;

/** `NAME:PATH` names a container's path; a path with a `/` before any `:` is the host's (Docker's rule). */
export function splitCopyArg(arg: string): { container?: string; path: string } {
  const colon = arg.indexOf(':');
  if (colon <= 0 || arg.slice(0, colon).includes('/')) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** `path` inside `root`, every symlink on the way resolved inside root too (`followLast`: the last one as well). */
export async function resolveInRoot(root: string, path: string, followLast: boolean): Promise<string> {
  const todo = path.split('/').filter(Boolean);
  const done: string[] = [];
  for (let hops = 0; todo.length > 0; ) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    const s = await lstat(host).catch(() => undefined);
    if (s?.isSymbolicLink() && (todo.length > 0 || followLast)) {
      if (++hops > 40) throw new UserError('symlink-loop', `too many levels of symbolic links: ${path}`);
      const target = await readlink(host);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    done.push(part);
  }
  return join(root, ...done);
}

/** Owners of what was copied (the entries of `source`'s tree, placed at `target`) set to uid:gid. */
async function chownCopied(source: string, target: string, uid: number, gid: number): Promise<void> {
  await lchown(target, uid, gid);
  const s = await lstat(source);
  if (!s.isDirectory()) return;
  for (const name of await readdir(source)) await chownCopied(join(source, name), join(target, name), uid, gid);
}

async function withContainerRoot<T>(store: Store, c: ContainerRecord, writable: boolean, fn: (root: string) => Promise<T>): Promise<T> {
  const ex = await import('../executor/index.js');
  const init = c.status.state === 'running' && isHelperAlive(c) ? ex.containerInit(c.pid!) : undefined;
  if (init !== undefined) return fn(`/proc/${init}/root`);
  const paths = store.containers.paths(c.id);
  return ex.withContainerView(store, { lowerDirs: c.lowerDirs, upperDir: paths.upperDir, workDir: writable ? paths.workDir : undefined }, fn);
}

/** Docker's placement rules: where `source` lands given `dest` as typed (a trailing `/`, `/.`). */
async function placeCopy(source: string, sourceTyped: string, dest: string, destTyped: string, shown: string): Promise<string> {
  const src = await lstat(source);
  const d = await stat(dest).catch(() => undefined);
  const contentsOnly = /\/\.$/.test(sourceTyped);
  if (!src.isDirectory()) {
    if (d?.isDirectory()) return join(dest, basename(source));
    if (!d && destTyped.endsWith('/')) throw new UserError('dest-dir-missing', copyMessages['dest-dir-missing'](shown));
    if (!(await stat(resolve(dest, '..')).catch(() => undefined))?.isDirectory()) throw new UserError('no-parent', copyMessages['no-parent'](posix.dirname(shown)));
    if (d) await rm(dest, { force: true });
    return dest;
  }
  if (!d) {
    if (!(await stat(resolve(dest, '..')).catch(() => undefined))?.isDirectory()) throw new UserError('no-parent', copyMessages['no-parent'](posix.dirname(shown)));
    return dest;
  }
  if (!d.isDirectory()) throw new UserError('dir-to-file', copyMessages['dir-to-file'](shown));
  return contentsOnly ? dest : join(dest, basename(source));
}

/** Copy `from` to `to`; exactly one of them is `CONTAINER:PATH`. */
export async function copyFiles(o: CallOptions & { from: string; to: string }): Promise<void> {
  const from = splitCopyArg(o.from);
  const to = splitCopyArg(o.to);
  if (from.container !== undefined && to.container !== undefined) throw new UserError('copy-usage', copyMessages['both-containers'](), { exitCode: 2 });
  if (from.container === undefined && to.container === undefined) throw new UserError('copy-usage', copyMessages['no-container'](), { exitCode: 2 });
  const store = await openStoreOf(o.store, o.settings ?? settingsFromEnv(process.env));
  const { copyTree } = await import('../executor/index.js');
  const cwd = o.cwd ?? process.cwd();
  if (from.container !== undefined) {
    const c = await findContainer(store, from.container);
    const inside = from.path.startsWith('/') ? from.path : `/${from.path}`;
    await withContainerRoot(store, c, false, async (root) => {
      const source = await resolveInRoot(root, inside, false);
      if (!(await lstat(source).catch(() => undefined))) throw new UserError('no-such-file', copyMessages['not-in-container'](inside, c.id), { where: o.from });
      const dest = resolve(cwd, to.path);
      const target = await placeCopy(source, inside, dest, to.path, to.path);
      await copyTree(source, target);
      await chownCopied(source, target, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    });
    return;
  }
  const source = resolve(cwd, from.path);
  if (!(await lstat(source).catch(() => undefined))) throw new UserError('no-such-file', copyMessages['no-host-file'](source), { where: o.from });
  const c = await findContainer(store, to.container!);
  if (!to.path.startsWith('/')) throw new UserError('relative-in-container', copyMessages['relative-in-container'](to.path), { where: o.to });
  await withContainerRoot(store, c, true, async (root) => {
    const dest = await resolveInRoot(root, to.path, true);
    const target = await placeCopy(source, from.path, dest, to.path, to.path);
    await copyTree(source, target);
    await chownCopied(source, target, 0, 0);
  });
}
