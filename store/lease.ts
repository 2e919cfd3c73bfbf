import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isDigest, type Digest } from '../common/index.js';
import type { Lease } from './contract.js';
import { writeFileAtomic } from './atomic.js';
import { isPidAlive } from './lock.js';

/**
 * Leases `<root>/leases/<pid>-<random>.json`: what a running build is using, kept alive by
 * prune (gc roots). A lease also protects everything written to the store since it was
 * taken (gc keeps blobs and layers whose ctime is not older than the oldest live lease), so
 * a build needs to `protect()` only what it reuses from before its start. A lease whose
 * pid is dead is void (and removed by the next prune): a SIGKILLed build pins nothing, and
 * so a lease is never fsynced: after a machine crash every lease is void anyway.
 */

interface LeaseFile {
  pid: number;
  createdMs: number;
  digests: Digest[];
  /** The store's own lease for everything its process writes (store/index.ts), not a build's. */
  isProcessWide?: boolean;
}

export function leasesDir(root: string): string {
  return join(root, 'leases');
}

export async function acquireLease(root: string, opts: { isProcessWide?: boolean } = {}): Promise<Lease> {
  mkdirSync(leasesDir(root), { recursive: true });
  const path = join(leasesDir(root), `${process.pid}-${randomBytes(6).toString('hex')}.json`);
  const state: LeaseFile = { pid: process.pid, createdMs: Date.now(), digests: [], ...(opts.isProcessWide ? { isProcessWide: true } : {}) };
  await writeFileAtomic(path, JSON.stringify(state), { durable: false });
  let released = false;
  // A normal exit ends the lease at once; after SIGKILL the dead pid voids it.
  const onExit = () => rmSync(path, { force: true });
  process.once('exit', onExit);
  let chain: Promise<void> = Promise.resolve();
  return {
    protect(digest: Digest) {
      if (released) return Promise.reject(new Error('[internal] lease used after release'));
      if (state.digests.includes(digest)) return chain;
      state.digests.push(digest);
      chain = chain.then(() => writeFileAtomic(path, JSON.stringify(state), { durable: false }));
      return chain;
    },
    async release() {
      if (released) return;
      released = true;
      process.off('exit', onExit);
      await chain.catch(() => {});
      rmSync(path, { force: true });
    },
  };
}

export interface LiveLeases {
  digests: Set<Digest>;
  /** Creation time of the oldest live lease, or undefined when no build runs. */
  oldestMs: number | undefined;
}

/**
 * The live leases; dead owners' lease files are removed. `excludePid` leaves out that
 * process's leases; `excludeProcessWideOf` only its process-wide one (its builds' stay).
 */
export async function readLeases(root: string, opts: { excludePid?: number; excludeProcessWideOf?: number } = {}): Promise<LiveLeases> {
  const out: LiveLeases = { digests: new Set(), oldestMs: undefined };
  let names: string[];
  try {
    names = readdirSync(leasesDir(root));
  } catch {
    return out;
  }
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    const path = join(leasesDir(root), n);
    let lease: LeaseFile;
    try {
      lease = JSON.parse(readFileSync(path, 'utf8')) as LeaseFile;
    } catch {
      // Unreadable: if its owner (the name's pid prefix) lives, keep everything to be safe.
      if (isPidAlive(Number(n.split('-')[0]))) out.oldestMs = 0;
      continue;
    }
    if (lease.pid === opts.excludePid) continue;
    if (lease.pid === opts.excludeProcessWideOf && lease.isProcessWide) continue;
    if (!isPidAlive(lease.pid)) {
      rmSync(path, { force: true });
      continue;
    }
    for (const d of lease.digests) if (isDigest(d)) out.digests.add(d);
    out.oldestMs = Math.min(out.oldestMs ?? Infinity, lease.createdMs);
  }
  return out;
}
