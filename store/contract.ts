import type { Writable, Readable } from 'node:stream';
import type { Digest } from '../common/index.js';
import type { Descriptor, ImageConfig, ImageIndex, Manifest, Platform } from './oci-types.js';
import type { BuildInputs, CacheRecord } from './cache-records.js';
import type { ContainerImageRef, ContainerPaths, ContainerRecord } from './containers.js';
import type { LogRecord } from './container-logs.js';
import type { VolumeRecord } from './volumes.js';
import type { FsckOptions, FsckReport } from './fsck.js';
import type { GcOptions, GcResult } from './gc.js';
import type { CompressionSpec } from './chunked-compress.js';
import type { CompressOptions } from './compressed-layers.js';
import type { UsageRow } from './disk-usage.js';

/**
 * The store's public contract. Everything the other folders may do with the store is here;
 * `openStore(root)` (store/index.ts) returns an implementation.
 *
 * Layout under `root` (see DESIGN.md "The store"):
 *   oci/            a valid OCI image layout: oci-layout, index.json, blobs/sha256/<hex>
 *                   index.json lists one manifest per (name) with annotation
 *                   org.opencontainers.image.ref.name = the full normalised name
 *                   (docker.io/library/saluda:latest), and untagged images kept alive by
 *                   an io.tsbuild.untagged annotation. skopeo reads `oci:<root>/oci:<ref.name>`.
 *   layers/<hex>/   extracted layer (the overlay lower dir) of diff_id sha256:<hex>; never modified
 *                   after its atomic rename into place
 *   tar-split/<hex> the layer's tar minus its file bodies (store/tar-split.ts): with it, layers/<hex>/
 *                   stands for the uncompressed blob <hex>, which is then not kept
 *   containers/     container state (issue 3)
 *   cache/          cache records (issue 4); cache/replay/: records of fully cached builds
 *                   that the next identical command replays (cli/build-replay.ts; prune
 *                   removes them all)
 *   tmp/            temp files; cleaned at open of anything older than the owning process
                  (processes recorded in a dead owner's dir are killed first)
 *   locks/          short mkdir-locks with the owner's pid (stolen when that pid is dead)
 *   leases/         <pid>-<random>.json: what running builds use (gc roots; void when the pid is dead)
 *   sizes/<hex>     remembered content size (regular-file bytes) of layer blob <hex>
 *   compressed/<diff_id hex>-<algorithm>-<level>.json  the compressed blob made of a layer (not a gc root)
 *   <kind>/<key>.json  durable records of other folders (`records`: registry/compressed, …)
 *
 * Modes: the root and every entry directly under it are 0700 (owner only; store/permissions.ts):
 *   no other user may read or traverse the store. Every open repairs them; `fsck` reports
 *   them and `fsck --repair` fixes them. A new folder under the root is made 0700.
 * Atomicity: every write goes temp file → fsync → rename (store/atomic.ts only).
 * Concurrency: two processes may use one root at once; index.json updates take the lock.
 * Errors: "not there" is `undefined`; I/O failures throw UserError('store-io', 'store: …').
 */
export interface Store {
  readonly root: string;

  // ---- blobs (content-addressed, immutable) ----
  hasBlob(digest: Digest): Promise<boolean>;
  /**
   * Absolute path of a blob's file (whether or not it exists). An uncompressed layer whose
   * dir is extracted may have no file (store/tar-split.ts): read layers with `openBlob`.
   */
  blobPath(digest: Digest): string;
  /** Bytes of a blob (a layer's tar whether or not it has a file), or undefined when absent. */
  blobSize(digest: Digest): Promise<number | undefined>;
  /** Whole blob in memory: only for small JSON (manifests, configs). Undefined if absent. */
  readBlob(digest: Digest): Promise<Buffer | undefined>;
  /** Streaming read (a layer's tar made again from its dir when it has no file); the caller consumes or destroys the stream. Throws if absent. */
  openBlob(digest: Digest): Readable;
  /** Write small bytes as a blob (atomic, idempotent). */
  putBlob(bytes: Uint8Array | string): Promise<{ digest: Digest; size: number }>;
  /**
   * Streaming write: pipe bytes into `stream`, then `commit()` hashes-while-writing,
   * fsyncs and renames into place. With `expected`, a digest mismatch throws and nothing is
   * stored. `abort()` removes the temp file. Idempotent: committing an existing blob is fine.
   */
  blobWriter(opts?: { expected?: Digest }): BlobWriter;

  // ---- images ----
  /**
   * Write the config and manifest blobs for an image whose layer blobs are already stored,
   * and (optionally) point names at it. Layers may be uncompressed tar
   * (mediaType layerTar: then blob digest == diff_id) or gzip. `annotations` go in the
   * manifest. With `isIndexed: false` only the blobs are written (kept by the writer's
   * lease until it ends): the image is not listed, named nor kept by the index.
   */
  writeImage(img: { config: ImageConfig; layers: Descriptor[]; names?: string[]; annotations?: Record<string, string>; isIndexed?: boolean }): Promise<ImageRecord>;
  /**
   * As writeImage, for a config blob already stored with its bytes as they came (a pull, a
   * load): the image id stays that blob's digest, however its JSON was serialised.
   */
  commitImage(img: { configDigest: Digest; configSize: number; config: ImageConfig; layers: Descriptor[]; names: string[]; isIndexed?: boolean }): Promise<ImageRecord>;
  /**
   * Find an image by name (normalised here), full id, `sha256:` id, or unique id prefix (≥4 hex).
   * A name of an image index gives the child for `platform` (default the host's) as containerd's
   * matcher picks it among the children the store holds; undefined when none matches.
   */
  resolveImage(ref: string, opts?: { platform?: Platform }): Promise<ImageRecord | undefined>;
  /** The image a stored manifest blob describes (an index's child); undefined when its manifest or config is not stored. */
  imageOfManifest(manifestDigest: Digest): Promise<ImageRecord | undefined>;
  /**
   * Write an image index (a multi-platform image) over manifests already stored — `index`
   * serialised canonically, or `bytes` kept as they came (a pull) — and point `names` at it.
   * `isIndexed: false` writes the blob only. Returns the index's digest and size.
   */
  writeIndex(img: { index?: ImageIndex; bytes?: Buffer; names: string[]; isIndexed?: boolean }): Promise<{ digest: Digest; size: number }>;
  listImages(): Promise<ImageRecord[]>;
  /** Point `name` (normalised) at image `id` (moves it off any other image). */
  tag(id: Digest, name: string): Promise<void>;
  /** Remove a name; returns the image it pointed at, or undefined. */
  untag(name: string): Promise<Digest | undefined>;
  /** Drop an image record entirely (all its names). Blobs stay until gc. */
  removeImage(id: Digest): Promise<void>;

  // ---- extracted layers (overlay lower dirs) ----
  /**
   * The directory holding the extracted content of layer `diffId` (extracting it once from
   * its blob `blob`, safely: no path escapes, whiteouts become overlay whiteouts/opaque xattrs).
   * `borrow`: a dir lent by a finished build's extractor (store/lent-layers.ts) will do, for
   * a build's overlay lowers (not a container's, which may outlive the loan for hours).
   */
  layerDir(diffId: Digest, blob: Descriptor, opts?: { borrow?: boolean }): Promise<string>;
  /**
   * Make `dir` (overlay form, inside the store's tmp/) the extracted layer of `diffId`, by
   * rename: a RUN's upper dir is its layer's lower dir. False when already there.
   */
  adoptLayerDir(diffId: Digest, dir: string): Promise<boolean>;
  /**
   * Extract the uncompressed layer blob `diffId` this process has just written (so not
   * hashed again) into the store's layer dirs, off the main thread when it is big; its tar
   * then gives way to a tar-split. False when nothing was done (the dir is there already).
   * `signal` abandons it: nothing is published, its temp dir is gone when the promise settles.
   */
  extractOwnLayer(diffId: Digest, signal?: AbortSignal): Promise<boolean>;
  /**
   * `extractOwnLayer` of each of `diffIds` not extracted yet whose tar has at least
   * `minBytes`, in order, by a detached process that outlives this one
   * (store/extract-detached.ts); a build that needs one of them meanwhile waits for it.
   * A failure there is not an error (the layer is extracted when needed). `lend`: the dirs
   * of those layers in the tmpfs mounted at `mount`, lent to builds until that process is
   * done (store/lent-layers.ts: it mounts the tmpfs a second time); true when they are. The
   * caller unmounts its own mount as ever.
   */
  handOffExtractions(
    diffIds: readonly Digest[],
    opts?: { minBytes?: number; lend?: { mount: string; dirs: ReadonlyMap<Digest, string> } },
  ): Promise<boolean>;
  /** Regular-file bytes of a stored layer blob (Docker's SIZE), remembered after the first count. */
  layerContentSize(blob: Descriptor): Promise<number>;
  /**
   * Layer `layer` (content `diffId`) as a blob compressed as `spec` (store/compressed-layers.ts):
   * deterministic bytes for any `cores`, made once and kept until a prune drops it.
   */
  compressedLayer(layer: Descriptor, diffId: Digest, spec: CompressionSpec, opts: CompressOptions): Promise<Descriptor>;

  // ---- housekeeping ----
  /** Run `fn` while holding the short store lock named `name` (index updates, gc). */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** A private temp dir inside the store (same filesystem, for atomic renames). */
  makeTempDir(prefix: string): Promise<string>;
  /**
   * Record that process `pid` (a RUN step's container helper) belongs to temp dir `dir`
   * (from makeTempDir). If this process dies without removing `dir`, the next open kills
   * that process (when the pid is still the same process: same start time), waits until it
   * is gone, and only then unmounts and removes `dir`. Not durable: after a reboot the
   * process is gone anyway.
   */
  recordProcess(dir: string, pid: number): Promise<void>;

  // ---- leases (gc roots of running builds; store/lease.ts) ----
  /**
   * Take a lease for the duration of a build: `prune` keeps everything a live lease
   * protects, and everything written to the store since the oldest live lease was taken.
   * So a build calls `protect()` for what it reuses from before its start (base image
   * layers and configs, cache-hit layer blobs) and `release()` when done (in `finally`).
   * A lease of a dead process is void: SIGKILL pins nothing.
   */
  acquireLease(): Promise<Lease>;
  /** Mark and sweep (`tsbuild prune`): drop what no image, cache record, container or live lease keeps. */
  prune(opts?: Omit<GcOptions, 'rootSources'>): Promise<GcResult>;
  /** The store's bytes by kind, each inode in one row (`tsbuild system df`; store/disk-usage.ts). */
  diskUsage(): Promise<UsageRow[]>;
  /** Check blobs, layers, index and modes (`tsbuild fsck`); `repair` fixes what it can. */
  fsck(opts?: FsckOptions): Promise<FsckReport>;

  // ---- what the other folders keep in the store ----
  /** Recomputable JSON by kind and digest (`cache/memo/`): a miss is simply recomputed. */
  readonly memos: Memos;
  /** Step cache records, and what each name's last build used (`cache/records`, `cache/builds`). */
  readonly cacheRecords: CacheRecordStore;
  /** Container state (`containers/`). */
  readonly containers: ContainerStore;
  /** RUN --mount=type=cache dirs (`cache-mounts/`). */
  readonly cacheMounts: CacheMountStore;
  /** Named volumes (`volumes/`). */
  readonly volumes: VolumeStore;
  /** Small durable JSON documents another folder owns the shape of (registry/ keeps `registry/…` here). */
  readonly records: RecordFiles;
}

export interface Memos {
  read<T>(kind: string, key: Digest): Promise<T | undefined>;
  write(kind: string, key: Digest, value: unknown): Promise<void>;
  /** The same as text the caller encodes itself (the context's stat memo). */
  readText(kind: string, key: Digest): Promise<string | undefined>;
  writeText(kind: string, key: Digest, text: string): Promise<void>;
}

export interface CacheRecordStore {
  get(key: Digest): Promise<CacheRecord | undefined>;
  put(record: CacheRecord): Promise<void>;
  /** Every record (gc roots, cache export). */
  list(): Promise<CacheRecord[]>;
  lastBuild(name: string): Promise<BuildInputs | undefined>;
  recordBuild(name: string, inputs: BuildInputs): Promise<void>;
  /** `--cache-to type=local`: these keys' records and their layer blobs as files in `dir`. */
  exportLocal(dir: string, keys: Digest[]): Promise<{ records: number }>;
  /** `--cache-from type=local`: records from `dir`, each layer verified before its record. */
  importLocal(dir: string): Promise<{ records: number }>;
}

/**
 * `<root>/<kind>/<key>.json`, written temp → fsync → rename, so a reader finds the old
 * document or the new one. The store checks names, not contents: a reader validates what
 * it reads (a damaged or foreign file reads as whatever JSON it holds, or undefined).
 */
export interface RecordFiles {
  /** The document, or undefined when absent or not JSON. */
  read(kind: string, key: string): Promise<unknown>;
  write(kind: string, key: string, value: unknown): Promise<void>;
}

export interface ContainerStore {
  /** Create the record and its directories; throws NameInUseError for a taken name. */
  create(init: { name?: string; image: ContainerImageRef; command: string[]; autoRemove: boolean; lowerDirs: string[] }): Promise<{ record: ContainerRecord; paths: ContainerPaths }>;
  /** Replace the record (read-modify-write by its one owner: the `run` that created it). */
  save(record: ContainerRecord): Promise<void>;
  markExited(record: ContainerRecord, code: number): Promise<ContainerRecord>;
  remove(record: ContainerRecord): Promise<void>;
  list(): Promise<ContainerRecord[]>;
  /** By full id, unique id prefix or name; throws AmbiguousContainerError for a shared prefix. */
  find(ref: string): Promise<ContainerRecord | undefined>;
  paths(id: string, name?: string): ContainerPaths;
  /** Give it another name; throws NameInUseError for a taken name. */
  rename(record: ContainerRecord, name: string): Promise<ContainerRecord>;
  /** A detached container's output records (runtime-helper/log.c), oldest first. */
  readLog(id: string): Promise<LogRecord[]>;
}

export interface VolumeStore {
  get(name: string): Promise<VolumeRecord | undefined>;
  /** The volume, made empty when missing (`created` then true). */
  ensure(name: string): Promise<{ volume: VolumeRecord; created: boolean }>;
  list(): Promise<VolumeRecord[]>;
  /** The caller checked that no container uses it. */
  remove(name: string): Promise<void>;
}

export interface CacheMountStore {
  /** The data dir of cache mount `id`, created on first use (and filled by `seed`, for `from=`). */
  ensure(id: string, init: { mode: number; uid: number; gid: number; seed?: (dir: string) => Promise<void> }): Promise<string>;
  /** Exclusive use of mount `id` (sharing=private); undefined when it is busy. */
  claim(id: string): Promise<(() => Promise<void>) | undefined>;
  /** Run `fn` holding mount `id`'s lock (sharing=locked). */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T>;
  /** `--cache-to type=local` / `--cache-from type=local`: mount contents as tars in `dir`. */
  exportLocal(dir: string, ids?: readonly string[]): Promise<{ mounts: number }>;
  importLocal(dir: string): Promise<{ mounts: number }>;
}

export interface Lease {
  /** Keep blob `digest` (and the extracted layer of that diff_id) alive until release. */
  protect(digest: Digest): Promise<void>;
  /** End the lease (idempotent). */
  release(): Promise<void>;
}

export interface BlobWriter {
  readonly stream: Writable;
  commit(): Promise<{ digest: Digest; size: number }>;
  abort(): Promise<void>;
}

/** One image as the store knows it. `id` is the config digest (DESIGN.md clarification). */
export interface ImageRecord {
  id: Digest;
  manifestDigest: Digest;
  manifest: Manifest;
  config: ImageConfig;
  /** Full normalised names pointing at it (docker.io/library/saluda:latest). */
  names: string[];
  /** Sum of regular-file bytes of all layers (Docker's SIZE), computed once at write. */
  sizeBytes: number;
  /**
   * Set when the name or id resolved is an image index: this record is one child (the
   * platform asked for, or the host's), `names` are the index's, `platforms` the children
   * the store holds, in the index's order.
   */
  index?: { digest: Digest; size: number; index: ImageIndex; platforms: Platform[] };
}
