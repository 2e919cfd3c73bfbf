import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { helperPath, hexOf, type Digest } from '../common/index.js';
import { writeFileAtomic } from './atomic.js';
import { processStartTicks } from './containers.js';
import { isSameProcess } from './temp.js';
import { STORE_DIR_MODE } from './permissions.js';

const run = promisify(execFile);

/**
 * A build's own layer dirs live in its private tmpfs (executor/build-layers.ts). When it ends
 * with some not yet extracted onto the store's disk, the detached extractor that goes on with
 * them (extract-detached.ts) is also lent that tmpfs: the first rebuild after an edit takes
 * those dirs as its overlay lowers instead of waiting for the disk copy (issue 22 item 3).
 *
 * The build bind-mounts its tmpfs at `/run/tsbuild/lent/<extractor pid>-<start ticks>-<random>` before it
 * unmounts its own: nothing stays mounted inside the store (an `rm -rf` of it still works),
 * and a killed extractor's mount is found by its dead pid. A loan is `<root>/lent/<hex>`:
 * `<pid> <start ticks> <dir>`, good while that process lives. When its extractions are done
 * the extractor takes its loans back and, if a build took one, waits `TSBUILD_LENT_GRACE_MS`
 * (30 s) for it to have mounted it, then unmounts the tmpfs lazily: an overlay mounted on it
 * keeps its lowers until it is unmounted itself.
 */
export const LENT_MOUNTS = '/run/tsbuild/lent';

/** Beside a loan once a build has taken it: only then is there a grace to wait out. */
const BORROWED = '.borrowed';

function lentDir(root: string): string {
  return join(root, 'lent');
}

/**
 * Lend `dirs` (layer dirs inside the tmpfs mounted at `mount`) to builds until the live
 * process `pid` takes them back: `mount` is bind-mounted under LENT_MOUNTS in its name.
 * False (nothing lent) when that mount cannot be made; the caller unmounts `mount` either way.
 */
export async function lendLayerDirs(root: string, mount: string, pid: number, dirs: ReadonlyMap<Digest, string>): Promise<boolean> {
  const ticks = processStartTicks(pid);
  if (ticks === undefined || !isSameProcess(pid, ticks)) return false;
  const target = join(LENT_MOUNTS, `${pid}-${ticks}-${randomBytes(6).toString('hex')}`);
  try {
    // Owner-only, as the store is (store/permissions.ts): the tmpfs root under it is 0755.
    mkdirSync(LENT_MOUNTS, { recursive: true, mode: STORE_DIR_MODE });
    chmodSync(LENT_MOUNTS, STORE_DIR_MODE);
    mkdirSync(target, { mode: STORE_DIR_MODE });
    await run(helperPath, ['--mount', 'none', mount, target, 'bind']);
  } catch {
    removeDir(target);
    return false;
  }
  mkdirSync(lentDir(root), { recursive: true, mode: STORE_DIR_MODE });
  for (const [diffId, dir] of dirs) {
    await writeFileAtomic(join(lentDir(root), hexOf(diffId)), `${pid} ${ticks} ${join(target, relative(mount, dir))}\n`, { durable: false });
  }
  return true;
}

interface Loan {
  file: string;
  pid: number;
  ticks: number;
  dir: string;
}

function readLoan(file: string): Loan | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
  const m = /^(\d+) (\d+) (\/.+)$/.exec(text);
  return m ? { file, pid: Number(m[1]), ticks: Number(m[2]), dir: m[3] } : undefined;
}

/** The lent dir of layer `diffId`, when a live extractor holds one (in this mount namespace). */
export function lentLayerDir(root: string, diffId: Digest): string | undefined {
  const loan = readLoan(join(lentDir(root), hexOf(diffId)));
  if (!loan) return undefined;
  if (!isSameProcess(loan.pid, loan.ticks)) {
    forget(loan.file); // its extractor was killed: removeDeadLoans unmounts its tmpfs
    return undefined;
  }
  // In another mount namespace (a rootless build's own) the tmpfs is not there: an empty dir.
  if (!statSync(loan.dir, { throwIfNoEntry: false })?.isDirectory()) return undefined;
  // Mark, then see the loan still there: the extractor takes the loan back before it looks
  // for the mark, so one of the two sees the other.
  try {
    writeFileSync(`${loan.file}${BORROWED}`, '');
  } catch {
    return undefined;
  }
  return existsSync(loan.file) ? loan.dir : undefined;
}

/** What an extractor took back: whether a build borrowed from it, and its lent mounts. */
export interface TakenBack {
  borrowed: boolean;
  mounts: string[];
}

/** The extractor's last act, first half: take back this process's loans (no build takes them after this). */
export function takeBackLoans(root: string): TakenBack {
  let borrowed = false;
  for (const n of safeReaddir(lentDir(root))) {
    const loan = n.endsWith(BORROWED) ? undefined : readLoan(join(lentDir(root), n));
    if (loan?.pid !== process.pid) continue;
    forget(loan.file);
    if (existsSync(`${loan.file}${BORROWED}`)) borrowed = true;
    forget(`${loan.file}${BORROWED}`);
  }
  const mounts = safeReaddir(LENT_MOUNTS)
    .filter((n) => n.startsWith(`${process.pid}-`))
    .map((n) => join(LENT_MOUNTS, n));
  return { borrowed, mounts };
}

/** The second half: wait out the grace when a build borrowed, then unmount the lent tmpfs. */
export async function unmountLoans(taken: TakenBack): Promise<void> {
  if (taken.mounts.length === 0) return;
  if (taken.borrowed) {
    const grace = process.env.TSBUILD_LENT_GRACE_MS;
    await sleep(grace && /^[0-9]+$/.test(grace) ? Number(grace) : 30_000);
  }
  for (const m of taken.mounts) await unmountLent(m);
}

/** The lent tmpfs of extractors that were killed (a store's open calls this): unmounted, removed. */
export async function removeDeadLoans(): Promise<void> {
  for (const n of safeReaddir(LENT_MOUNTS)) {
    // Named `<pid>-<start ticks>-…`: a pid used again by another process does not keep it.
    const m = /^(\d+)-(\d+)-/.exec(n);
    if (!m || !isSameProcess(Number(m[1]), Number(m[2]))) await unmountLent(join(LENT_MOUNTS, n));
  }
}

async function unmountLent(target: string): Promise<void> {
  await run(helperPath, ['--umount', target, 'lazy']).catch(() => undefined);
  removeDir(target);
}

function removeDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // still mounted (then left, never deleted through), or gone
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function forget(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // taken back already
  }
}
