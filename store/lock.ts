import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../common/index.js';

/**
 * Short store locks (DESIGN.md "Locking"): `<root>/locks/<name>` is a directory holding an
 * `owner` file (`<pid> <token>`). It is made complete in a temp dir and renamed into place,
 * so a lock never exists without its owner (rename of a dir onto an existing non-empty dir
 * fails: that is the mutual exclusion). A lock whose owner pid is dead is stolen, so a
 * SIGKILLed holder never wedges the store. Taking and releasing are synchronous calls
 * (microseconds each; see store/atomic.ts); only waiting for another holder sleeps.
 */

const WAIT_LIMIT_MS = 120_000;

/** Whether process `pid` exists (EPERM means it exists but is not ours). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Owner {
  pid: number;
  token: string;
}

function readOwner(dir: string): Owner | undefined {
  try {
    const [pid, token] = readFileSync(join(dir, 'owner'), 'utf8').trim().split(' ');
    return { pid: Number(pid), token: token ?? '' };
  } catch {
    return undefined;
  }
}

/** Try once to take lock `name`; returns the token on success. */
function tryAcquire(locksDir: string, name: string, pid = process.pid, token = randomBytes(8).toString('hex')): string | undefined {
  const staging = join(locksDir, `.new-${process.pid}-${token}`);
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'owner'), `${pid} ${token}\n`);
  try {
    renameSync(staging, join(locksDir, name));
    return token;
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return undefined;
    throw e;
  }
}

/**
 * Steal lock `name` if its owner is dead. The stale lock is renamed aside first (only one
 * stealer's rename can succeed); if what was renamed is not the lock judged dead (another
 * process re-took it in between), it is put back.
 */
function stealIfDead(locksDir: string, name: string): void {
  const path = join(locksDir, name);
  const owner = readOwner(path);
  if (!owner || isPidAlive(owner.pid)) return;
  const aside = join(locksDir, `.stale-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  const moved = readOwner(aside);
  if (moved && moved.token !== owner.token) {
    try {
      renameSync(aside, path);
    } catch {
      // re-taken meanwhile: the holder's own lock stands
    }
    return;
  }
  rmSync(aside, { recursive: true, force: true });
}

/** Run `fn` holding lock `name` under `<root>/locks/`; waits (polling) for other holders. */
export async function withLock<T>(root: string, name: string, fn: () => Promise<T>): Promise<T> {
  const locksDir = join(root, 'locks');
  mkdirSync(locksDir, { recursive: true });
  const started = Date.now();
  let delayMs = 5;
  let token: string | undefined;
  for (;;) {
    token = tryAcquire(locksDir, name);
    if (token !== undefined) break;
    stealIfDead(locksDir, name);
    if (Date.now() - started > WAIT_LIMIT_MS) {
      const owner = readOwner(join(locksDir, name));
      throw new UserError('store-locked', `store: lock "${name}" is held by process ${owner?.pid ?? '?'}`, {
        where: join(locksDir, name),
        hint: 'another tsbuild is updating the store; if no tsbuild runs, remove that directory',
      });
    }
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 2, 100);
  }
  try {
    return await fn();
  } finally {
    release(locksDir, name, token);
  }
}

/**
 * Take lock `name` only if it is free (or its owner dead), for this process or for `owner`
 * (a child that gets `owner.token` to release it with): whether it was taken. For work
 * another process may be doing already, which is then not done twice.
 */
export function tryLock(root: string, name: string, owner?: Owner): boolean {
  const locksDir = join(root, 'locks');
  mkdirSync(locksDir, { recursive: true });
  stealIfDead(locksDir, name);
  return tryAcquire(locksDir, name, owner?.pid, owner?.token) !== undefined;
}

/** The token of lock `name`'s owner, undefined when it is free. */
export function lockToken(root: string, name: string): string | undefined {
  return readOwner(join(root, 'locks', name))?.token;
}

/** Whether lock `name` is held by a live process. */
export function isLockHeld(root: string, name: string): boolean {
  const owner = readOwner(join(root, 'locks', name));
  return owner !== undefined && isPidAlive(owner.pid);
}

/** Release lock `name` if `token` still owns it. */
export function releaseLock(root: string, name: string, token: string): void {
  release(join(root, 'locks'), name, token);
}

/** Wait, polling, while lock `name` is held by a live process (however long that takes). */
export async function waitWhileLocked(root: string, name: string): Promise<void> {
  const path = join(root, 'locks', name);
  let delayMs = 5;
  for (;;) {
    const owner = readOwner(path);
    if (!owner || !isPidAlive(owner.pid) || owner.pid === process.pid) return;
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 2, 50);
  }
}

function release(locksDir: string, name: string, token: string): void {
  const path = join(locksDir, name);
  const owner = readOwner(path);
  if (owner?.token !== token) return; // stolen from us (we were presumed dead): not ours to remove
  const aside = join(locksDir, `.done-${process.pid}-${token}`);
  renameSync(path, aside);
  rmSync(aside, { recursive: true, force: true });
}
