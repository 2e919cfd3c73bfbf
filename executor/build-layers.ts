import { mkdir, rename, rm, statfs } from 'node:fs/promises';
import pLimit from 'p-limit';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { hexOf, type Digest } from '../common/index.js';
import { HAND_OFF_MIN_BYTES, type Descriptor, type Store, type XattrMap } from '../store/index.js';
import { extractOwnLayer, primeLayerDir, startOwnExtraction, type OwnExtraction } from './prime-layer.js';
import type { LayerDirSource } from './rootfs-view.js';
import { tmpfsBudget } from './memory-budget.js';
import { mountTmpfs, type MountedTmpfs } from './tmpfs.js';
import type { RuntimeSettings } from './settings.js';
import { copyTree } from './copy-tree.js';

/** Below this much room a layer-dirs tmpfs is not worth it: layers are extracted on disk. */
const MIN_BYTES = 512 * 1024 ** 2;

/**
 * The layer dirs of one build: the layers it writes itself and reads back as directories
 * (a COPY or a RUN followed by a RUN) live in a private tmpfs for as long as the build runs, in front
 * of the store's layer dirs: extracting many small files is an order of magnitude faster on
 * tmpfs than on ext4 (bench/RESULTS.md). Each such layer is also extracted onto the store's
 * disk in the background, one at a time, while the build goes on (`close()` hands those not
 * finished to a detached process, so a cold build never waits for them): the first rebuild after an edit
 * further down (issue 22) finds its parents' dirs there,
 * and the store then keeps each as its dir instead of its tar (store/tar-split.ts). The store's extractor unpacks such a layer while the step writes it
 * (`receive`); the dir is used once the blob is committed. The tmpfs gets half of what the
 * memory budget allows (memory-budget.ts), leaving the rest to RUN upper dirs. When memory is short, tmpfs
 * cannot be mounted, the tmpfs is full, or TSBUILD_LAYER_DIRS=disk, the layer is extracted
 * onto the store's disk as before. `close()` unmounts the tmpfs (in the build's `finally`);
 * after a SIGKILL the store's next open does (store/temp.ts: it is in the dead pid's temp dir).
 */
export class BuildLayerDirs implements LayerDirSource {
  /** This build's own layer dirs by diff_id (undefined: the store has it, or will). */
  private readonly own = new Map<Digest, Promise<string | undefined>>();
  private memory: Promise<MountedTmpfs | undefined> | undefined;
  private tmp: string | undefined;
  private isClosed = false;
  private incoming = 0;
  private slots = 0;
  /** The store's copies of this build's layer dirs, made one at a time beside the build. */
  private readonly persisting: Promise<void>[] = [];
  private readonly persisted: Digest[] = [];
  private readonly persistOne = pLimit(1);
  /** Stops the persisting at close: a cold build does not wait for it. */
  private readonly stopPersisting = new AbortController();

  constructor(
    private readonly store: Store,
    private readonly settings: Pick<RuntimeSettings, 'layerDirs' | 'layerDirsBytes'>,
  ) {}

  /** The dir of layer `diffId`: this build's own, else the store's (extracted from `blob` if needed). */
  async layerDir(diffId: Digest, blob: Descriptor): Promise<string> {
    return (await this.own.get(diffId)) ?? this.store.layerDir(diffId, blob, { borrow: true });
  }

  /**
   * Start extracting a layer a step is about to write into memory, while it is written: the
   * step sends the tar to `sink`, then calls `prime(diffId, incoming)` once the blob is
   * committed, or `incoming.abandon()`. Undefined when there is no tmpfs (the step primes
   * from the blob after writing).
   */
  async receive(): Promise<IncomingLayer | undefined> {
    const memory = (await this.mountOnce())?.dir;
    if (!memory || this.isClosed) return undefined;
    const dir = join(memory, `incoming-${this.incoming++}`);
    const x = await startOwnExtraction(dir).catch(() => undefined);
    if (!x) return undefined;
    return { sink: x.sink, dir, extraction: x, abandon: () => abandon(x, dir) };
  }

  /**
   * Extract layer `diffId`, a tar this build just wrote into the store, for the steps after
   * it; `incoming` when its extraction ran while it was written.
   */
  async prime(diffId: Digest, incoming?: IncomingLayer): Promise<void> {
    let p = this.own.get(diffId);
    if (!p) {
      p = this.extract(diffId, incoming);
      this.own.set(diffId, p);
    } else if (incoming) await incoming.abandon();
    if ((await p) !== undefined) this.persist(diffId);
  }

  /** Extract layer `diffId` (its blob was just written) onto the store's disk in the background. */
  private persist(diffId: Digest): void {
    if (this.isClosed) return;
    this.persisted.push(diffId);
    this.persisting.push(this.persistOne(() => primeLayerDir(this.store, diffId, this.stopPersisting.signal)));
  }

  /**
   * The layers whose extraction onto the store's disk had not finished when the build ended,
   * big enough that a later build would wait for their unpacking: a detached process goes on
   * with them (store/extract-detached.ts), and is lent this build's in-memory dirs of them,
   * which the next build takes as lowers meanwhile (store/lent-layers.ts). The small rest is
   * left to whoever needs it.
   */
  private async handOff(memory: MountedTmpfs | undefined): Promise<void> {
    const dirs = new Map<Digest, string>();
    if (memory) {
      for (const d of this.persisted) {
        const dir = await this.own.get(d)?.catch(() => undefined);
        if (dir !== undefined) dirs.set(d, dir);
      }
    }
    const lend = memory && dirs.size > 0 ? { mount: memory.dir, dirs } : undefined;
    await this.store.handOffExtractions(this.persisted, { minBytes: HAND_OFF_MIN_BYTES, ...(lend ? { lend } : {}) }).catch(() => false);
  }

  private async extract(diffId: Digest, incoming: IncomingLayer | undefined): Promise<string | undefined> {
    const memory = (await this.mountOnce())?.dir;
    if (memory && !this.isClosed) {
      const dir = join(memory, hexOf(diffId));
      if (incoming ? await this.adopt(incoming, dir) : await extractOwnLayer(this.store.blobPath(diffId), dir)) return dir;
      await rm(dir, { recursive: true, force: true });
    }
    await primeLayerDir(this.store, diffId);
    return undefined;
  }

  /**
   * A dir for a RUN's upper and work dirs inside this build's tmpfs, when it has `bytes` free:
   * `keep` then makes the upper the layer's dir by a rename instead of a copy (workload 7's apt
   * layer: 440 ms of copying), and the step mounts no tmpfs of its own. The RUN shares the
   * tmpfs's room with the layers in it; its size was reserved when it was mounted. The caller
   * removes the dir (`remove`) when the step is done with it. Undefined: no tmpfs, or not
   * that much room in it.
   */
  async upperSlot(bytes: number): Promise<UpperSlot | undefined> {
    const memory = await this.mountOnce();
    if (!memory || this.isClosed) return undefined;
    const free = await statfs(memory.dir).then((s) => s.bavail * s.bsize, () => 0);
    if (free < bytes) return undefined;
    const dir = join(memory.dir, `run-${this.slots++}`);
    await mkdir(dir);
    return { dir, tmpfs: memory, remove: () => rm(dir, { recursive: true, force: true }) };
  }

  /**
   * Keep `upper.root` (a RUN's upper dir on a tmpfs, in overlay form, with the xattrs its
   * snapshot read) as layer `diffId`'s dir for the steps after it: moved there when it is in
   * one of this build's slots (`upper.slot`), else copied into memory, else to `diskCopy` (a
   * new path in the store's tmp/) and given to the store.
   */
  async keep(diffId: Digest, upper: KeptUpper, diskCopy: string): Promise<void> {
    let p = this.own.get(diffId);
    if (!p) {
      p = this.copyIn(diffId, upper, diskCopy);
      this.own.set(diffId, p);
    }
    if ((await p) !== undefined) this.persist(diffId);
  }

  private async copyIn(diffId: Digest, upper: KeptUpper, diskCopy: string): Promise<string | undefined> {
    const memory = (await this.mountOnce())?.dir;
    if (memory && upper.slot && !this.isClosed) {
      // The upper keeps overlay's bookkeeping for its own mount (impure, origin, uuid), which
      // overlay does not read in a lower dir; the disk copy, made from the tar, has none.
      const dir = join(memory, hexOf(diffId));
      if (await rename(upper.slot, dir).then(() => true, () => false)) return dir;
    }
    // copyTree keeps what makes it a layer: whiteouts (0/0 char devices), the opaque xattr, owners, modes, times
    const asLayer = { asLayer: true, xattrs: upper.xattrs };
    if (memory && !this.isClosed) {
      const dir = join(memory, hexOf(diffId));
      if (await copyTree(upper.root, dir, asLayer).then(() => true, () => false)) return dir;
      await rm(dir, { recursive: true, force: true });
    }
    await copyTree(upper.root, diskCopy, asLayer);
    await this.store.adoptLayerDir(diffId, diskCopy);
    return undefined;
  }

  /** Move a finished incoming extraction to `dir`; false (and removed) when it failed. */
  private async adopt(incoming: IncomingLayer, dir: string): Promise<boolean> {
    if ((await incoming.extraction.done()) && !this.isClosed) {
      await rename(incoming.dir, dir);
      return true;
    }
    await rm(incoming.dir, { recursive: true, force: true });
    return false;
  }

  /** The tmpfs, mounted at the first layer; undefined when there is none. */
  private mountOnce(): Promise<MountedTmpfs | undefined> {
    this.memory ??= (async () => {
      if (this.settings.layerDirs === 'disk') return undefined;
      const given = this.settings.layerDirsBytes ?? 0;
      const sizeBytes = given > 0 ? given : Math.floor(tmpfsBudget.room() / 2);
      if (!(given > 0) && sizeBytes < MIN_BYTES) return undefined;
      this.tmp = await this.store.makeTempDir('layers-');
      return mountTmpfs(join(this.tmp, 'memory'), { name: 'tsbuild-layers', sizeBytes });
    })();
    return this.memory;
  }

  /** Unmount and remove this build's layer dirs. Steps still running (a failed build's other stages) keep what they have mounted. */
  async close(): Promise<void> {
    this.isClosed = true;
    const memory = await this.memory?.catch(() => undefined);
    await Promise.allSettled(this.own.values());
    // What is not on disk yet is stopped here (its temp dir removed) and handed off: a cold build does not wait for it.
    this.stopPersisting.abort();
    await Promise.allSettled(this.persisting);
    await this.handOff(memory);
    await memory?.unmount();
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
  }
}

/** A RUN's upper dir (its real path) and its xattrs by absolute path, as its snapshot read them. */
export interface KeptUpper {
  root: string;
  xattrs: XattrMap;
  /** The same upper dir as a path in one of this build's slots (`upperSlot`): moved, not copied. */
  slot?: string;
}

/** Room for a RUN's upper and work dirs in the build's tmpfs (`BuildLayerDirs.upperSlot`). */
export interface UpperSlot {
  dir: string;
  /** The tmpfs it is on, for the step's full check. */
  tmpfs: MountedTmpfs;
  remove(): Promise<void>;
}

/** A layer being extracted into memory while a step writes it (`BuildLayerDirs.receive`). */
export interface IncomingLayer {
  /** Where the step sends the layer tar (it never fails). */
  sink: Writable;
  dir: string;
  extraction: OwnExtraction;
  /** The step failed or wrote no layer: stop and remove the extraction. */
  abandon(): Promise<void>;
}

async function abandon(x: OwnExtraction, dir: string): Promise<void> {
  x.abandon();
  await x.done().catch(() => false);
  await rm(dir, { recursive: true, force: true });
}
