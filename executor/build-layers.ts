import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hexOf, type Digest } from '../common/index.js';
import type { Descriptor, Store } from '../store/index.js';
import { extractOwnLayer, primeLayerDir } from './prime-layer.js';
import type { LayerDirSource } from './rootfs-view.js';
import { mountTmpfs, unmountTmpfs } from './tmpfs.js';

/**
 * The layer dirs of one build: the layers it writes itself and reads back as directories
 * (a COPY followed by a RUN) live in a private tmpfs for as long as the build runs, in front
 * of the store's layer dirs. Extracting 10,000 files onto this ext4 took 2–8 s (10 runs),
 * into tmpfs 0.3 s; and the store's layer dirs are only a cache of the blobs, which are the
 * durable copy: a later build that needs the dir gets it from the store, which extracts the
 * blob then. When memory is short, tmpfs cannot be mounted, the tmpfs is full, or
 * TSBUILD_LAYER_DIRS=disk, the layer is extracted onto the store's disk as before.
 * `close()` unmounts it (in the build's `finally`); after a SIGKILL the store's next open
 * does (store/temp.ts: the mount is in the dead pid's temp dir).
 */
export class BuildLayerDirs implements LayerDirSource {
  /** This build's own layer dirs by diff_id (undefined: the store has it, or will). */
  private readonly own = new Map<Digest, Promise<string | undefined>>();
  private memory: Promise<string | undefined> | undefined;
  private tmp: string | undefined;
  private isClosed = false;

  constructor(
    private readonly store: Store,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** The dir of layer `diffId`: this build's own, else the store's (extracted from `blob` if needed). */
  async layerDir(diffId: Digest, blob: Descriptor): Promise<string> {
    return (await this.own.get(diffId)) ?? this.store.layerDir(diffId, blob);
  }

  /** Extract layer `diffId`, a tar this build just wrote into the store, for the steps after it. */
  async prime(diffId: Digest): Promise<void> {
    let p = this.own.get(diffId);
    if (!p) {
      p = this.extract(diffId);
      this.own.set(diffId, p);
    }
    await p;
  }

  private async extract(diffId: Digest): Promise<string | undefined> {
    const memory = await this.mountOnce();
    if (memory && !this.isClosed) {
      const dir = join(memory, hexOf(diffId));
      if (await extractOwnLayer(this.store.blobPath(diffId), dir)) return dir;
      await rm(dir, { recursive: true, force: true });
    }
    await primeLayerDir(this.store, diffId);
    return undefined;
  }

  /** The tmpfs, mounted at the first layer; undefined when there is none. */
  private mountOnce(): Promise<string | undefined> {
    this.memory ??= (async () => {
      if (this.env.TSBUILD_LAYER_DIRS === 'disk') return undefined;
      this.tmp = await this.store.makeTempDir('layers-');
      const dir = join(this.tmp, 'memory');
      const sizeBytes = Number(this.env.TSBUILD_LAYER_DIRS_BYTES) || undefined;
      return (await mountTmpfs(dir, { name: 'tsbuild-layers', sizeBytes })) ? dir : undefined;
    })();
    return this.memory;
  }

  /** Unmount and remove this build's layer dirs. Steps still running (a failed build's other stages) keep what they have mounted. */
  async close(): Promise<void> {
    this.isClosed = true;
    const memory = await this.memory?.catch(() => undefined);
    await Promise.allSettled(this.own.values());
    if (memory) await unmountTmpfs(memory);
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
  }
}
