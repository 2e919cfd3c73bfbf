import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The one place the store makes a write durable and visible: temp → fsync → rename → fsync
 * of the directory. A reader never sees a partial file: either the old content or the new.
 * Temp names carry the writer's pid (`.tsbuild-tmp-<pid>-…`) so leftovers of a killed
 * process can be recognised and removed later (store/temp.ts).
 */

/** Prefix of temp files written next to their target. */
export const TEMP_PREFIX = '.tsbuild-tmp-';

/** A temp name for a file next to `path`, owned by this process. */
export function tempSibling(path: string): string {
  return join(dirname(path), `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}-${basename(path)}`);
}

/**
 * Write `data` to `path` atomically (replacing any previous content), and durably unless
 * `durable: false` — for files that only matter while their writer lives (leases) or that
 * are recomputed when missing (a build's inputs for miss explanations, memos, replays).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { durable?: boolean } = {},
): Promise<void> {
  const durable = opts.durable ?? true;
  const tmp = tempSibling(path);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  } finally {
    await fh.close().catch(() => {});
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  if (durable) await fsyncDir(dirname(path));
}

/**
 * Publish a finished temp file (same filesystem) at `finalPath`: fsync it, rename it into
 * place, fsync the directory. Replaces an existing file (content-addressed callers only
 * replace equal bytes).
 */
export async function publishFile(tempPath: string, finalPath: string): Promise<void> {
  const fh = await open(tempPath, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tempPath, finalPath);
  await fsyncDir(dirname(finalPath));
}

/**
 * Publish a finished temp directory at `finalPath` by rename: it is complete once visible,
 * to every process and after any process is killed. Its files are not flushed to disk: the
 * only directories published are extracted layers, a cache of blobs that are themselves
 * fsynced (a syncfs here flushed every other writer's data on the filesystem too, and cost
 * seconds on a busy machine). Returns false when another writer published the same path
 * first (content-addressed: theirs is as good as ours); the caller removes its own copy.
 */
export async function publishDir(tempDir: string, finalPath: string): Promise<boolean> {
  try {
    await rename(tempDir, finalPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw e;
  }
  await fsyncDir(dirname(finalPath));
  return true;
}

/** fsync a directory so a rename in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
