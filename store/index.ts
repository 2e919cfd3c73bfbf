/**
 * store/: the content-addressed OCI image layout on disk — blobs, manifests, refs, extracted
 * layers, cache records, container state, locks, leases, garbage collection. It knows
 * nothing of Dockerfiles. It must never leave a partial file visible: writes are
 * temp → fsync → rename (store/atomic.ts), and a killed process's leftovers are removed at
 * the next open.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError, inUserNamespace, ioMessage, type Digest } from '../common/index.js';
import type { Lease, Store } from './contract.js';
import * as blobs from './blobs.js';
import * as images from './images.js';
import { initLayout, ociDir } from './index-json.js';
import { adoptLayerDir, layerDir, layerPath } from './layers.js';
import { acquireLease, readLeases } from './lease.js';
import { extractOwnLayerBlob } from './layer-persist.js';
import { handOffExtractions } from './extract-detached.js';
import { lendLayerDirs, removeDeadLoans } from './lent-layers.js';
import { settleSplitLayers, writebackExpiryMs } from './layer-settle.js';
import { withLock } from './lock.js';
import { cleanLeftovers, makeTempDir, recordProcess } from './temp.js';
import { STORE_DIR_MODE, makeStoreRoot, repairModes } from './permissions.js';
import type { Descriptor, Platform } from './oci-types.js';
import { readMemo, readMemoText, writeMemo, writeMemoText } from './memo.js';
import { CacheRecords } from './cache-records.js';
import * as containers from './containers.js';
import { readLog } from './container-logs.js';
import * as volumes from './volumes.js';
import * as cacheMounts from './cache-mounts.js';
import { exportCacheLocal, importCacheLocal } from './cache-local.js';
import { layerContentSize } from './content-size.js';
import { collectGarbage } from './gc.js';
import { fsck } from './fsck.js';
import { recordFiles } from './record-files.js';
import { compressedLayer } from './compressed-layers.js';
import { diskUsage } from './disk-usage.js';
import type { CompressionSpec } from './chunked-compress.js';
import type { CompressOptions } from './compressed-layers.js';

export type { Store, BlobWriter, ImageRecord, Lease, Memos, CacheRecordStore, ContainerStore, CacheMountStore, RecordFiles } from './contract.js';
export type { CacheRecord, BatchEntry, BuildInputs, KeyPartsLike } from './cache-records.js';
export {
  NameInUseError,
  AmbiguousContainerError,
  isValidName,
  isHelperAlive,
  processStartTicks,
  type ContainerRecord,
  type ContainerPaths,
  type ContainerState,
  type ContainerImageRef,
  type ContainerProcessConfig,
  type ContainerMount,
} from './containers.js';
export { parseLogRecords, type LogRecord } from './container-logs.js';
export { isValidVolumeName, type VolumeRecord } from './volumes.js';
export * from './oci-types.js';
export * from './reference.js';
// collectGarbage, fsck and layerContentSize take a root until cli/ calls Store.prune, .fsck
// and .layerContentSize instead
export { collectGarbage, type GcOptions, type GcResult } from './gc.js';
export { fsck, type FsckReport, type FsckOptions } from './fsck.js';
export { settleSplitLayers, type SettleOptions } from './layer-settle.js';
export { saveImages, writeImageArchive, type SaveFormat, type SaveOptions, type ArchiveSink, type ArchiveImage } from './archive-save.js';
export { DirPack } from './dir-pack.js';
export { importLayoutImage } from './layout-import.js';
export { TarPack } from './tar-pack.js';
export { writeTreeTar, writeTreesTar } from './tar-tree.js';
export { loadArchive, type LoadedImage } from './archive-load.js';
export { importRootfs } from './import.js';
export { layerContentSize } from './content-size.js';
export {
  compressStream,
  defaultExportCompression,
  DEFAULT_LEVEL,
  LEVEL_RANGE,
  type CompressionSpec,
  type CompressionAlgorithm,
  type ExportCompression,
} from './chunked-compress.js';
export { compressedMediaType } from './compressed-layers.js';
export type { UsageRow, UsageKind } from './disk-usage.js';
/** For files outside the store that must never be seen half-written (registry/ writes Docker's config.json). */
export { writeFileAtomic } from './atomic.js';
export { TarWriter, type BodyFill } from './tar-write.js';
export { readTar, type TarEntry, type TarBody } from './tar-read.js';
export { decompressed, gunzipStream } from './layer-stream.js';
export { HAND_OFF_MIN_BYTES } from './extract-detached.js';
export { extractTar } from './layers.js';
export { startUnpack, unpackTarFile, type LayerUnpack } from './extract-thread.js';
export { getXattrs, setXattrs, makeNodes, type XattrMap, type DeviceNode } from './fs-attrs.js';

/** Folders every open needs. */
const REQUIRED_DIRS = ['tmp', 'layers', 'locks'];
/** The store's other folders, made here owner-only (store/permissions.ts) before anything makes them open. */
const OTHER_DIRS = ['oci', 'tar-split', 'cache', 'leases', 'sizes', 'containers', 'cache-mounts', 'volumes'];

export interface OpenOptions {
  /**
   * Take group and other bits off the root and its entries (default). `fsck` opens without
   * it, to report them, and repairs only with --repair.
   */
  isRepairingModes?: boolean;
}

/**
 * Open (creating if needed) the store at `root`: makes the layout owner-only, repairs modes
 * that let other users in, and removes temp leftovers of processes that are gone. Cheap: no
 * lock is held afterwards.
 */
export async function openStore(rootDir: string, opts: OpenOptions = {}): Promise<Store> {
  const root = resolve(rootDir);
  try {
    makeStoreRoot(root);
    for (const d of REQUIRED_DIRS) mkdirSync(join(root, d), { recursive: true, mode: STORE_DIR_MODE });
    for (const d of OTHER_DIRS) {
      try {
        mkdirSync(join(root, d), { recursive: true, mode: STORE_DIR_MODE });
      } catch {
        // a read-only store: whatever needs the folder says so when it does
      }
    }
    // A store on a read-only mount or of another owner keeps its modes: fsck reports them.
    if (opts.isRepairingModes !== false) repairModes(root);
    await initLayout(root);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError('store-io', ioMessage(`store: open ${root}`, e), {
      where: root,
      hint: code === 'EACCES' || code === 'EROFS' || code === 'EPERM' ? 'choose a writable store with --root DIR or TSBUILD_ROOT' : undefined,
    });
  }
  await cleanLeftovers(root, [ociDir(root), join(root, 'cache', 'records'), join(root, 'cache', 'builds'), join(root, 'leases'), join(root, 'sizes')]);
  await readLeases(root); // drops lease files of dead processes
  await removeDeadLoans(); // a killed extractor's lent tmpfs (store/lent-layers.ts)
  // Tars of layer dirs the kernel has written back already; failing that they stay (nothing is lost).
  await settleSplitLayers(root, { minAgeMs: writebackExpiryMs() }).catch(() => 0);
  return new DiskStore(root);
}

/**
 * The embedded store. The first write of a process takes a lease for that process, so
 * `prune` in another process keeps everything this one writes (DESIGN.md "Locking").
 */
class DiskStore implements Store {
  private processLease: Promise<Lease> | undefined;

  readonly memos: Store['memos'];
  readonly cacheRecords: Store['cacheRecords'];
  readonly containers: Store['containers'];
  readonly volumes: Store['volumes'];
  readonly cacheMounts: Store['cacheMounts'];
  readonly records: Store['records'];

  constructor(readonly root: string) {
    this.memos = {
      read: (kind, key) => readMemo(root, kind, key),
      write: (kind, key, value) => writeMemo(root, kind, key, value),
      readText: (kind, key) => readMemoText(root, kind, key),
      writeText: (kind, key, text) => writeMemoText(root, kind, key, text),
    };
    const records = new CacheRecords(root);
    this.cacheRecords = {
      get: (key) => records.get(key),
      put: (record) => records.put(record),
      list: () => records.list(),
      lastBuild: (name) => records.lastBuild(name),
      recordBuild: (name, inputs) => records.recordBuild(name, inputs),
      exportLocal: (dir, keys) => exportCacheLocal(this, dir, keys),
      importLocal: (dir) => importCacheLocal(this, dir),
    };
    this.volumes = {
      get: (name) => volumes.getVolume(root, name),
      ensure: (name) => volumes.ensureVolume(root, name),
      list: () => volumes.listVolumes(root),
      remove: (name) => volumes.removeVolume(root, name),
    };
    this.containers = {
      create: (init) => containers.createContainer(root, init),
      save: (record) => containers.saveContainer(root, record),
      markExited: (record, code) => containers.markExited(root, record, code),
      remove: (record) => containers.removeContainer(root, record),
      list: () => containers.listContainers(root),
      find: (ref) => containers.findContainer(root, ref),
      paths: (id, name) => containers.containerPaths(root, id, name),
      rename: (record, name) => containers.renameContainer(root, record, name),
      readLog: (id) => readLog(containers.containerPaths(root, id).logFile),
    };
    this.cacheMounts = {
      ensure: (id, init) => cacheMounts.ensureCacheMount(this, id, init),
      claim: (id) => cacheMounts.claimCacheMount(root, id),
      withLock: (id, fn) => cacheMounts.withCacheMountLock(root, id, fn),
      exportLocal: (dir, ids) => cacheMounts.exportCacheMountsLocal(this, dir, ids),
      importLocal: (dir) => cacheMounts.importCacheMountsLocal(this, dir),
    };
    this.records = recordFiles(root, [...REQUIRED_DIRS, ...OTHER_DIRS]);
  }

  private writing(): Promise<Lease> {
    this.processLease ??= acquireLease(this.root, { isProcessWide: true });
    return this.processLease;
  }

  hasBlob(digest: Digest) {
    return blobs.hasBlob(this.root, digest);
  }
  blobPath(digest: Digest) {
    return blobs.blobPath(this.root, digest);
  }
  async blobSize(digest: Digest) {
    return blobs.blobSize(this.root, digest);
  }
  readBlob(digest: Digest) {
    return blobs.readBlob(this.root, digest);
  }
  openBlob(digest: Digest) {
    return blobs.openBlob(this.root, digest);
  }
  async putBlob(bytes: Uint8Array | string) {
    await this.writing();
    return blobs.putBlob(this.root, bytes);
  }
  blobWriter(opts?: { expected?: Digest }) {
    // the lease is taken in the background: a failure to take it shows in the write itself
    this.writing().catch(() => {});
    return blobs.blobWriter(this.root, opts);
  }
  async writeImage(img: Parameters<Store['writeImage']>[0]) {
    await this.writing();
    return images.writeImage(this.root, img);
  }
  async commitImage(img: Parameters<Store['commitImage']>[0]) {
    await this.writing();
    return images.commitImage(this.root, img);
  }
  resolveImage(ref: string, opts?: { platform?: Platform }) {
    return images.resolveImage(this.root, ref, opts);
  }
  imageOfManifest(manifestDigest: Digest) {
    return images.imageOfManifest(this.root, manifestDigest);
  }
  async writeIndex(img: Parameters<Store['writeIndex']>[0]) {
    await this.writing();
    return images.writeIndex(this.root, img);
  }
  listImages() {
    return images.listImages(this.root);
  }
  tag(id: Digest, name: string) {
    return images.tagImage(this.root, id, name);
  }
  untag(name: string) {
    return images.untagName(this.root, name);
  }
  removeImage(id: Digest) {
    return images.removeImage(this.root, id);
  }
  async layerDir(diffId: Digest, blob: Descriptor, opts?: { borrow?: boolean }) {
    await this.writing();
    return layerDir(this.root, diffId, blob, opts);
  }
  async adoptLayerDir(diffId: Digest, dir: string) {
    await this.writing();
    return adoptLayerDir(this.root, diffId, dir);
  }
  async extractOwnLayer(diffId: Digest, signal?: AbortSignal) {
    await this.writing();
    if (existsSync(layerPath(this.root, diffId))) return false;
    return extractOwnLayerBlob(this.root, diffId, signal);
  }
  async handOffExtractions(diffIds: readonly Digest[], opts?: { minBytes?: number; lend?: { mount: string; dirs: ReadonlyMap<Digest, string> } }) {
    const pid = handOffExtractions(this.root, diffIds, opts);
    // A rootless build's tmpfs is in its own mount namespace: no later build would see it.
    if (pid === undefined || !opts?.lend || opts.lend.dirs.size === 0 || inUserNamespace) return false;
    // Only what is not on the store's disk yet: a build takes the store's dir when there is one.
    const dirs = new Map([...opts.lend.dirs].filter(([d]) => !existsSync(layerPath(this.root, d))));
    return dirs.size > 0 && lendLayerDirs(this.root, opts.lend.mount, pid, dirs);
  }
  layerContentSize(blob: Descriptor) {
    return layerContentSize(this.root, blob);
  }
  async compressedLayer(layer: Descriptor, diffId: Digest, spec: CompressionSpec, opts: CompressOptions) {
    await this.writing();
    return compressedLayer(this, layer, diffId, spec, opts);
  }
  withLock<T>(name: string, fn: () => Promise<T>) {
    return withLock(this.root, name, fn);
  }
  async makeTempDir(prefix: string) {
    await this.writing();
    return makeTempDir(this.root, prefix);
  }
  recordProcess(dir: string, pid: number) {
    return recordProcess(this.root, dir, pid);
  }
  acquireLease() {
    return acquireLease(this.root);
  }
  prune(opts?: Parameters<Store['prune']>[0]) {
    return collectGarbage(this.root, opts);
  }
  diskUsage() {
    return diskUsage(this.root);
  }
  fsck(opts?: Parameters<Store['fsck']>[0]) {
    return fsck(this.root, opts);
  }
}
export { writeCacheFile } from './memo.js';
export { exportCacheLocal, importCacheLocal } from './cache-local.js';
