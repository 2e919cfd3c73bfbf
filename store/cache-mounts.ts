import { createReadStream } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError, digestOf, hexOf } from '../common/index.js';
import { publishDir, publishFile, writeFileAtomic } from './atomic.js';
import type { Store } from './contract.js';
import { extractTar } from './layers.js';
import { isPidAlive } from './lock.js';
import { writeTreeTar } from './tar-tree.js';
import { makeTempDir } from './temp.js';

/** A claim dir without its pid file for this long was left by a process that died making it. */
const ORPHAN_CLAIM_MS = 10_000;

/**
 * Cache mounts (`RUN --mount=type=cache`) kept in the store between builds, never in an
 * image nor in a cache key: `<root>/cache-mounts/<hex of sha256(id)>/` holds `meta.json`
 * ({ id }) and `data/` (what the step sees at its target). A new one is made complete in
 * tmp/ and renamed into place. `sharing=locked` holds `<hex>.lock/` for the whole step;
 * `sharing=private` claims `<hex>.busy/` or gets a throwaway dir. Export/import
 * (`--cache-to/--cache-from type=local`) writes `DIR/mounts/<hex>.tar` (the data, numeric
 * owners) and `DIR/mounts/<hex>.json` ({ id }).
 */

export interface CacheMountMeta {
  id: string;
}

export function cacheMountsDir(root: string): string {
  return join(root, 'cache-mounts');
}

function hexOfId(id: string): string {
  return hexOf(digestOf(id));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * The data dir of cache mount `id`, created on first use with `mode`/`uid`/`gid` (and
 * filled by `seed`, for `from=`), as BuildKit creates it.
 */
export async function ensureCacheMount(
  store: Store,
  id: string,
  init: { mode: number; uid: number; gid: number; seed?: (dir: string) => Promise<void> },
): Promise<string> {
  const final = join(cacheMountsDir(store.root), hexOfId(id));
  if (await exists(join(final, 'data'))) return join(final, 'data');
  await mkdir(cacheMountsDir(store.root), { recursive: true });
  const tmp = await store.makeTempDir('cache-mount-');
  try {
    const dir = join(tmp, 'm');
    const data = join(dir, 'data');
    await mkdir(data, { recursive: true });
    if (init.seed) await init.seed(data);
    await chown(data, init.uid, init.gid);
    await chmod(data, init.mode);
    await writeFileAtomic(join(dir, 'meta.json'), JSON.stringify({ id } satisfies CacheMountMeta));
    await publishDir(dir, final);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return join(final, 'data');
}

export async function listCacheMounts(root: string): Promise<{ hex: string; id: string }[]> {
  const out: { hex: string; id: string }[] = [];
  const names = await readdir(cacheMountsDir(root)).catch(() => [] as string[]);
  for (const hex of names.filter((n) => /^[a-f0-9]{64}$/.test(n))) {
    try {
      const meta = JSON.parse(await readFile(join(cacheMountsDir(root), hex, 'meta.json'), 'utf8')) as CacheMountMeta;
      out.push({ hex, id: meta.id });
    } catch {
      out.push({ hex, id: '' });
    }
  }
  return out;
}

/**
 * Claim cache mount `id` (`<hex>.<kind>/pid`), or undefined when a live process holds that
 * claim; a claim of a dead process is taken over. Returns the release function.
 */
async function claim(root: string, id: string, kind: 'busy' | 'lock'): Promise<(() => Promise<void>) | undefined> {
  const dir = join(cacheMountsDir(root), `${hexOfId(id)}.${kind}`);
  await mkdir(cacheMountsDir(root), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await mkdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(join(dir, 'pid'), 'utf8').catch(() => '')).trim());
      // No pid yet: the holder is between its mkdir and its write (busy), unless that was
      // long ago (it died there).
      const age = Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? Date.now());
      if (pid ? isPidAlive(pid) : age < ORPHAN_CLAIM_MS) return undefined;
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    await writeFile(join(dir, 'pid'), String(process.pid));
    return () => rm(dir, { recursive: true, force: true });
  }
  return undefined;
}

/** `sharing=private`: the mount for this step alone, or undefined when another step holds it. */
export function claimCacheMount(root: string, id: string): Promise<(() => Promise<void>) | undefined> {
  return claim(root, id, 'busy');
}

/**
 * `sharing=locked`: run `fn` as the only writer of cache mount `id` across builds. Waits as
 * long as the holder lives (a step may run for many minutes; no time limit as for the
 * short store locks); a dead holder's lock is taken over.
 */
export async function withCacheMountLock<T>(root: string, id: string, fn: () => Promise<T>): Promise<T> {
  let delayMs = 20;
  for (;;) {
    const release = await claim(root, id, 'lock');
    if (release) {
      try {
        return await fn();
      } finally {
        await release();
      }
    }
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 2, 250);
  }
}

/** `prune --all`: drop every cache mount (renamed into tmp/ first, so none is seen half-removed). */
export async function removeCacheMounts(root: string): Promise<number> {
  const all = await listCacheMounts(root);
  if (all.length === 0) return 0;
  const trash = await makeTempDir(root, 'gc-mounts');
  for (const m of all) await rename(join(cacheMountsDir(root), m.hex), join(trash, m.hex)).catch(() => {});
  await rm(trash, { recursive: true, force: true });
  return all.length;
}

/** `--cache-to type=local,dest=DIR`: the cache mounts named by `ids` (all when undefined). */
export async function exportCacheMountsLocal(store: Store, dir: string, ids?: readonly string[]): Promise<{ mounts: number }> {
  const wanted = ids === undefined ? undefined : new Set(ids.map(hexOfId));
  const mounts = (await listCacheMounts(store.root)).filter((m) => m.id && (!wanted || wanted.has(m.hex)));
  if (mounts.length === 0) return { mounts: 0 };
  const out = join(dir, 'mounts');
  await mkdir(out, { recursive: true });
  for (const m of mounts) {
    const tar = join(out, `${m.hex}.tar`);
    const tmp = `${tar}.tmp-${process.pid}`;
    // Under the mount's lock: a `locked` writer is never caught half-way.
    await withCacheMountLock(store.root, m.id, async () => {
      await writeTreeTar(join(cacheMountsDir(store.root), m.hex, 'data'), tmp);
    });
    await publishFile(tmp, tar);
    await writeFileAtomic(join(out, `${m.hex}.json`), JSON.stringify({ id: m.id } satisfies CacheMountMeta));
  }
  return { mounts: mounts.length };
}

/** `--cache-from type=local,src=DIR`: cache mounts the store does not have yet (a local one wins). */
export async function importCacheMountsLocal(store: Store, dir: string): Promise<{ mounts: number }> {
  const names = await readdir(join(dir, 'mounts')).catch(() => [] as string[]);
  let n = 0;
  for (const name of names.filter((x) => /^[a-f0-9]{64}\.json$/.test(x))) {
    const hex = name.slice(0, 64);
    const meta = JSON.parse(await readFile(join(dir, 'mounts', name), 'utf8')) as CacheMountMeta;
    if (typeof meta.id !== 'string' || hexOfId(meta.id) !== hex) continue;
    const final = join(cacheMountsDir(store.root), hex);
    if (await exists(final)) continue;
    await mkdir(cacheMountsDir(store.root), { recursive: true });
    const tmp = await store.makeTempDir('cache-mount-');
    try {
      const data = join(tmp, 'm', 'data');
      await mkdir(data, { recursive: true });
      try {
        await extractTar(createReadStream(join(dir, 'mounts', `${hex}.tar`)), data, { what: `cache mount "${meta.id}"` });
      } catch (e) {
        throw new UserError('cache-from-corrupt', `cache source ${dir}: cache mount "${meta.id}" is missing or damaged`, {
          where: dir,
          detail: (e as Error).message,
        });
      }
      await writeFileAtomic(join(tmp, 'm', 'meta.json'), JSON.stringify(meta));
      if (await publishDir(join(tmp, 'm'), final)) n++;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  return { mounts: n };
}
