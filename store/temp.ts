import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { helperPath } from '../common/index.js';
import { TEMP_PREFIX, writeFileAtomic } from './atomic.js';
import { processStartTicks } from './containers.js';
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

/** Name of a process record in a temp dir: `.process-<pid>`, holding `<pid> <start ticks>`. */
const PROCESS_RECORD = /^\.process-(\d+)$/;

export async function recordProcess(root: string, dir: string, pid: number): Promise<void> {
  if (dirname(dir) !== tmpRoot(root)) throw new Error(`[internal] recordProcess: ${dir} is not a temp dir of ${root}`);
  const ticks = processStartTicks(pid);
  if (ticks === undefined) return; // already gone
  await writeFileAtomic(join(dir, `.process-${pid}`), `${pid} ${ticks}\n`, { durable: false });
}

/** How long a killed process may take to be gone (its pid namespace torn down). */
const KILL_WAIT_MS = 10_000;

/** Whether `pid` is still the process that started at `ticks` and not yet a zombie. */
export function isSameProcess(pid: number, ticks: number): boolean {
  if (processStartTicks(pid) !== ticks) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Kill the processes recorded in the dead owner's temp dir `path` and wait until they are gone. */
async function killRecorded(path: string): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(path).filter((n) => PROCESS_RECORD.test(n));
  } catch {
    return;
  }
  const live: [number, number][] = [];
  for (const n of names) {
    const [pid, ticks] = (await readFile(join(path, n), 'utf8').catch(() => '')).trim().split(' ').map(Number);
    if (!pid || !isSameProcess(pid, ticks)) continue;
    try {
      process.kill(pid, 'SIGKILL'); // the helper: its pid 1 dies with it (PDEATHSIG), and so its pid namespace
      live.push([pid, ticks]);
    } catch {
      // gone meanwhile
    }
  }
  // It is not our child: init reaps it. Wait until it is no longer running.
  for (const started = Date.now(); live.some(([p, t]) => isSameProcess(p, t)) && Date.now() - started < KILL_WAIT_MS; ) await sleep(10);
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
 * Remove an abandoned temp entry. A dead build may have left a container running in it
 * (killed first: it holds the mounts) and a tmpfs or overlay mounted inside: unmount next,
 * or `rm -r` would descend into the mount.
 */
async function removeLeftover(path: string): Promise<void> {
  await killRecorded(path);
  for (const m of await mountsUnder(path)) await run(helperPath, ['--umount', m, 'lazy']).catch(() => {});
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
