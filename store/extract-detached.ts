import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hexOf, isDigest, type Digest } from '../common/index.js';
import { blobPath } from './blobs.js';
import { extractOwnLayerBlob } from './layer-persist.js';
import { layerLockName } from './layer-lock.js';
import { layerDirBytes } from './layer-size.js';
import { takeBackLoans, unmountLoans } from './lent-layers.js';
import { layerPath } from './layers.js';
import { lockToken, releaseLock, tryLock } from './lock.js';

/**
 * This build's layers that are not on the store's disk yet when the build ends are extracted
 * there by a detached process, so the first rebuild after an edit finds its parents' dirs
 * instead of unpacking them (issue 22 item 3). It is the store's own extraction
 * (`extractOwnLayerBlob`: a private temp dir named by its pid, published by one rename), so
 * a SIGKILL at any instant leaves only a temp dir the next open removes. While it extracts a
 * layer it holds the lock `layer-<hex>` (store/layer-lock.ts): a build that needs that layer waits for it
 * instead of unpacking it a second time beside it; a layer it has
 * not started yet is taken by whoever locks it first, and skipped by the other. It may be
 * lent the build's tmpfs of layer dirs too (lent-layers.ts), which it unmounts at the end.
 */

/** A layer tar below this is unpacked in well under a second when it is needed: not worth a process of its own. */
export const HAND_OFF_MIN_BYTES = 4 * 1024 * 1024;

/** The argument that makes the extraction worker's file run as this detached process. */
export const DETACHED_FLAG = '--extract-layers';

// The CLI bundle has the worker's own bundle beside it (scripts/bundle.mjs); the compiled modules run the module.
const bundled = new URL('./tsbuild-extract.cjs', import.meta.url);
const entry = fileURLToPath(existsSync(bundled) ? bundled : new URL('./extract-worker.js', import.meta.url));

/**
 * Start one detached process extracting those of the uncompressed layer blobs `diffIds` that
 * are not extracted yet and have at least `minBytes`, in order; it outlives this one. Their
 * locks are taken here, in its name, before it has started, so a build that starts
 * meanwhile waits for it rather than racing it.
 */
export function handOffExtractions(root: string, diffIds: readonly Digest[], opts: { minBytes?: number } = {}): number | undefined {
  const left = diffIds.filter((d) => !existsSync(layerPath(root, d)) && (statSync(blobPath(root, d), { throwIfNoEntry: false })?.size ?? 0) >= (opts.minBytes ?? 0));
  if (left.length === 0) return undefined;
  const jobs = left.map((d) => ({ diffId: d, token: randomBytes(8).toString('hex') }));
  const child = spawn(process.execPath, [entry, DETACHED_FLAG, root, ...jobs.map((j) => `${j.diffId}=${j.token}`)], {
    detached: true,
    stdio: 'ignore',
  });
  child.on('error', () => undefined); // not started: the layers are extracted when they are needed, as before
  child.unref();
  const pid = child.pid;
  if (pid === undefined) return undefined;
  for (const j of jobs) tryLock(root, layerLockName(j.diffId), { pid, token: j.token });
  return pid;
}

/** The detached process's work: each layer not extracted and not being extracted by another process. */
export async function extractLayersDetached(argv: readonly string[]): Promise<void> {
  const [root, ...jobs] = argv;
  if (!root) return;
  const done: Digest[] = [];
  for (const job of jobs) {
    const [d, token] = job.split('=');
    if (!isDigest(d) || !token) continue;
    const name = layerLockName(d);
    // The lock the parent took for us, else our own when it is free: another process's means it has the layer.
    const owned = lockToken(root, name);
    if (owned !== token && !(owned === undefined && tryLock(root, name, { pid: process.pid, token }))) continue;
    try {
      if (!existsSync(layerPath(root, d))) await extractOwnLayerBlob(root, d);
      done.push(d);
    } catch {
      // The store gone, the blob pruned, a full disk: the layer is extracted when it is needed.
    } finally {
      releaseLock(root, name, token);
    }
  }
  // The dirs are on disk: no build borrows after this (those that did have the grace).
  const taken = takeBackLoans(root);
  // Their sizes for the gc's cap, walked here rather than by the next build's gc.
  for (const d of done) await layerDirBytes(root, hexOf(d)).catch(() => 0);
  await unmountLoans(taken);
}
