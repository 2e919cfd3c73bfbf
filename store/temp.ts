import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TEMP_PREFIX } from './atomic.js';
import { isPidAlive } from './lock.js';

const run = promisify(execFile);

/**
 * The store's temp area `<root>/tmp/`: every entry is named `<pid>-<random>-<prefix>` so
 * that leftovers of a process that died (SIGKILL, power loss) can be told from the live
 * work of a concurrent tsbuild and removed at the next open.
 */

export function tmpRoot(root: string): string {
  return join(root, 'tmp');
}

/** A fresh private directory under `<root>/tmp/` owned by this process. */
export async function makeTempDir(root: string, prefix: string): Promise<string> {
  const dir = join(tmpRoot(root), `${process.pid}-${randomBytes(6).toString('hex')}-${prefix}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A fresh temp file path under `<root>/tmp/` owned by this process (not created). */
export function tempFilePath(root: string, prefix: string): string {
  return join(tmpRoot(root), `${process.pid}-${randomBytes(6).toString('hex')}-${prefix}`);
}

function ownerPid(name: string): number {
  const m = /^(\d+)-/.exec(name.startsWith(TEMP_PREFIX) ? name.slice(TEMP_PREFIX.length) : name);
  return m ? Number(m[1]) : 0;
}

/** Mount points at or under `dir` (deepest first), from /proc/self/mountinfo. */
async function mountsUnder(dir: string): Promise<string[]> {
  let info: string;
  try {
    info = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const points = info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(dir + '/'));
  return points.sort((a, b) => b.length - a.length);
}

/**
 * Remove an abandoned temp entry. A dead build may have left an overlay mounted inside its
 * temp dir: unmount first, or `rm -r` would descend into the mount.
 */
async function removeLeftover(path: string): Promise<void> {
  for (const m of await mountsUnder(path)) await run('umount', ['-l', m]).catch(() => {});
  if ((await mountsUnder(path)).length > 0) return; // still mounted: leave it rather than delete through it
  await rm(path, { recursive: true, force: true });
}

/**
 * Clean leftovers of dead processes: entries of `<root>/tmp/`, and `.tsbuild-tmp-<pid>-…`
 * files next to atomic-write targets in `dirs`. Live processes' entries are kept.
 */
export async function cleanLeftovers(root: string, dirs: string[]): Promise<number> {
  let removed = 0;
  for (const dir of [tmpRoot(root), ...dirs]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    const isTmpArea = dir === tmpRoot(root);
    for (const n of names) {
      if (!isTmpArea && !n.startsWith(TEMP_PREFIX)) continue;
      if (isPidAlive(ownerPid(n))) continue;
      await removeLeftover(join(dir, n));
      removed++;
    }
  }
  return removed;
}
