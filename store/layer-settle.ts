import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UserError, helperPath, ioMessage, type Digest } from '../common/index.js';
import { blobPath, dropTarBlob } from './blobs.js';
import { layersDir } from './layers.js';
import { isLayerExtractionUnderWay } from './layer-lock.js';
import { tarSplitDir } from './tar-split.js';

const run = promisify(execFile);

/**
 * A layer extracted into `layers/<hex>/` with its tar-split beside it keeps its tar blob
 * until the dir is durable: a published dir is renamed into place, never fsynced file by
 * file, so until then a power loss could leave the dir empty or short, and the tar is the
 * one copy. Settling flushes the store's filesystem once (syncfs(2), for any number of
 * layers) and only then drops the tars of the layers that were pending before the flush.
 * The store's open settles layers older than the kernel's dirty-writeback expiry (their
 * pages are on disk already, so the flush is cheap); `prune` settles every pending layer.
 */

export interface SettleOptions {
  /** Settle only layers whose split is at least this old (default 0: all). */
  minAgeMs?: number;
  /** Flush the filesystem holding `root` (default syncfs(2) through the helper); tests inject one. */
  sync?: (root: string) => Promise<void>;
}

/** The tars dropped. A failed flush drops nothing and says so once. */
export async function settleSplitLayers(root: string, opts: SettleOptions = {}): Promise<number> {
  const pending = pendingLayers(root, opts.minAgeMs ?? 0);
  if (pending.length === 0) return 0;
  // The cheap flush at an open is not cheap while a detached extractor writes a layer
  // (store/extract-detached.ts): syncfs would wait for its fresh pages too. Later, then.
  if ((opts.minAgeMs ?? 0) > 0 && isLayerExtractionUnderWay(root)) return 0;
  await (opts.sync ?? syncFilesystem)(root);
  for (const d of pending) await dropTarBlob(root, d);
  return pending.length;
}

/** Layers with a dir, a split and still a tar whose split is at least `minAgeMs` old. */
function pendingLayers(root: string, minAgeMs: number): Digest[] {
  let names: string[];
  try {
    names = readdirSync(tarSplitDir(root));
  } catch {
    return [];
  }
  const now = Date.now();
  const out: Digest[] = [];
  for (const hex of names) {
    if (!/^[a-f0-9]{64}$/.test(hex)) continue;
    const d = `sha256:${hex}` as Digest;
    const split = statSync(join(tarSplitDir(root), hex), { throwIfNoEntry: false });
    if (!split || now - split.mtimeMs < minAgeMs) continue;
    if (!statSync(blobPath(root, d), { throwIfNoEntry: false })?.isFile()) continue;
    if (!statSync(join(layersDir(root), hex), { throwIfNoEntry: false })?.isDirectory()) continue;
    out.push(d);
  }
  return out;
}

async function syncFilesystem(root: string): Promise<void> {
  try {
    await run(helperPath, ['--syncfs', root]);
  } catch (e) {
    throw new UserError('store-io', ioMessage(`store: flush ${root} (syncfs)`, e), { where: root });
  }
}

/**
 * Dirty pages older than this are written back by the kernel on its own
 * (vm.dirty_expire_centisecs plus one vm.dirty_writeback_centisecs period).
 */
export function writebackExpiryMs(): number {
  const centis = (name: string, dflt: number) => {
    try {
      const n = Number(readFileSync(`/proc/sys/vm/${name}`, 'utf8').trim());
      return Number.isFinite(n) && n > 0 ? n : dflt;
    } catch {
      return dflt;
    }
  };
  return (centis('dirty_expire_centisecs', 3000) + centis('dirty_writeback_centisecs', 500)) * 10;
}
