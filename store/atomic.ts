import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The one place the store makes a write durable and visible: temp → fsync → rename → fsync
 * of the directory. A reader never sees a partial file: either the old content or the new.
 * Temp names carry the writer's pid (`.tsbuild-tmp-<pid>-…`) so leftovers of a killed
 * process can be recognised and removed later (store/temp.ts).
 *
 * Small files (index.json, records, leases, memos, locks) are written with synchronous
 * calls: each takes microseconds, far less than a trip through libuv's thread pool, and a
 * build makes dozens of them in a row. Streamed blobs (publishFile) stay asynchronous.
 */

/** Prefix of temp files written next to their target. */
export const TEMP_PREFIX = '.tsbuild-tmp-';

// One random tag per process and a counter: unique names without a getrandom per file.
const processTag = randomBytes(6).toString('hex');
let tempCount = 0;

/** A temp name for a file next to `path`, owned by this process. */
export function tempSibling(path: string): string {
  return join(dirname(path), `${TEMP_PREFIX}${process.pid}-${processTag}${(tempCount++).toString(36)}-${basename(path)}`);
}

/**
 * Write `data` to `path` atomically (replacing any previous content), and durably unless
 * `durable: false` — for files that only matter while their writer lives (leases) or that
 * are recomputed when missing (a build's inputs for miss explanations, memos, replays).
 * The temp file is a sibling of `path`, or `tmp` (same filesystem) when the caller has one.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { durable?: boolean; tmp?: string } = {},
): Promise<void> {
  const durable = opts.durable ?? true;
  const tmp = opts.tmp ?? tempSibling(path);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeFileSync(fd, data);
    if (durable) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (durable) fsyncDirSync(dirname(path));
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
  fsyncDirSync(dirname(finalPath));
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
  fsyncDirSync(dirname(finalPath));
  return true;
}

/** fsync a directory so a rename in it survives a crash. */
function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
