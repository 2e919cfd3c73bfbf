import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { isDigest, type Digest } from '../common/index.js';
import {
  MediaType,
  familiarName,
  parseReference,
  registryHost,
  type Descriptor,
  type HistoryEntry,
  type Manifest,
  type BatchEntry,
  type CacheRecord,
  type Store,
} from '../store/index.js';
import { downloadBlob, downloadSmallBlob } from './blob-download.js';
import { blobExists, uploadBlob } from './blob-upload.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { uncompressedLayerSink } from './layer-sink.js';
import { MAX_DOCUMENT_BYTES } from './limits.js';
import { fetchManifest, tooLarge } from './manifest.js';
import { registryError } from './messages.js';
import { pushLayer, putManifest, type PushContext } from './push.js';

/**
 * Build cache through a registry (`--cache-to/--cache-from type=registry,ref=R`): the
 * cache records and their layers travel as one OCI manifest at R. Its config blob
 * (media type below) lists the records — key, readable key parts, history entry (a run of
 * config steps: each step's), and the layer as (diff_id, gzip blob); its layers are
 * those gzip blobs, so a registry keeps them alive and they share storage with images.
 * Import downloads each layer (verified against its blob digest, then unpacked to a tar
 * verified against its diff_id) before writing the record that points at it, so a record
 * never points at nothing.
 */

export const CACHE_CONFIG_MEDIA_TYPE = 'application/vnd.tsbuild.cache.config.v1+json';

interface ExportedRecord {
  key: Digest;
  keyParts: unknown;
  history: HistoryEntry;
  layer?: { diffId: Digest; blob: Descriptor };
  /** A run of config steps recorded as one (CacheRecord.batch). */
  batch?: BatchEntry[];
}

/** A cache mount (RUN --mount=type=cache) travelling as one more layer: its data as a tar. */
interface ExportedMount {
  /** The file stem the local format uses (sha256 of the id) and the mount's meta. */
  hex: string;
  meta: { id: string };
  layer: { diffId: Digest; blob: Descriptor };
}

interface CacheConfig {
  records: ExportedRecord[];
  mounts?: ExportedMount[];
}

export interface CacheTransferOptions extends ClientOptions {
  /** Only these cache keys (default: every record in the store). */
  keys?: Digest[];
  /** Export these cache mounts' contents too (by id; default none). */
  mountIds?: string[];
  progress?: (line: string) => void;
  concurrency?: number;
}

/** Push the store's cache records (and their layers) to `refString`; returns how many went. */
export async function exportCache(store: Store, refString: string, opts: CacheTransferOptions = {}): Promise<{ records: number }> {
  const ref = parseReference(refString);
  const name = familiarName(ref);
  if (ref.tag === undefined) throw registryError('push-needs-tag', [name], { where: name });
  const client = new RegistryClient(ref.domain, registryHost(ref), opts);
  const ctx: PushContext = { store, client, repo: ref.path, say: opts.progress ?? (() => {}) };
  const wanted = opts.keys ? new Set<string>(opts.keys) : undefined;
  const all = (await store.cacheRecords.list()).filter((r) => !wanted || wanted.has(r.key));
  const records = [];
  for (const r of all) if (!r.layer || (await store.hasBlob(r.layer.digest))) records.push(r);
  records.sort((a, b) => (a.key < b.key ? -1 : 1));

  const limit = pLimit(opts.concurrency ?? 3);
  const pushed = new Map<string, Promise<Descriptor>>();
  const blobFor = (layer: Descriptor) => {
    let p = pushed.get(layer.digest);
    if (!p) {
      // A record's layer blob is its diff_id when stored as a tar (the executor's own layers).
      p = limit(() => pushLayer(ctx, layer, layer.digest));
      pushed.set(layer.digest, p);
    }
    return p;
  };
  const exported: ExportedRecord[] = await Promise.all(
    records.map(async (r) => ({
      key: r.key,
      keyParts: r.keyParts,
      history: r.history,
      ...(r.layer ? { layer: { diffId: r.layer.digest, blob: await blobFor(r.layer) } } : {}),
      ...(r.batch ? { batch: r.batch } : {}),
    })),
  );
  const mounts = opts.mountIds?.length ? await exportMounts(store, opts.mountIds, blobFor) : [];
  const configBytes = Buffer.from(JSON.stringify({ records: exported, mounts } satisfies CacheConfig));
  const config = await store.putBlob(configBytes);
  if (!(await blobExists(client, ctx.repo, config.digest))) {
    await uploadBlob(client, ctx.repo, { open: () => store.openBlob(config.digest), ...config });
  }
  const blobs = [...exported.flatMap((r) => (r.layer ? [r.layer.blob] : [])), ...mounts.map((m) => m.layer.blob)];
  const layers = [...new Map(blobs.map((b) => [b.digest, b])).values()];
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.manifest,
    config: { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: config.digest, size: config.size },
    layers,
  };
  await putManifest(client, ctx.repo, ref.tag, Buffer.from(JSON.stringify(manifest)), name);
  return { records: exported.length };
}

/**
 * Fetch cache records from `refString` into the store. A missing cache ref is not an
 * error for a build (`--cache-from` of a first build): it returns 0 records.
 */
export async function importCache(store: Store, refString: string, opts: CacheTransferOptions = {}): Promise<{ records: number }> {
  const ref = parseReference(refString);
  const name = familiarName(ref);
  const client = new RegistryClient(ref.domain, registryHost(ref), opts);
  let fetched;
  try {
    fetched = await fetchManifest(client, ref.path, ref.digest ?? ref.tag!, name);
  } catch (e) {
    if ((e as { code?: string }).code === 'manifest-unknown') return { records: 0 };
    throw e;
  }
  if (fetched.kind !== 'manifest' || fetched.manifest.config.mediaType !== CACHE_CONFIG_MEDIA_TYPE) {
    throw registryError('invalid-manifest', [name, 'not a tsbuild cache'], { where: name });
  }
  const cache = await readCacheConfig(client, ref.path, fetched.manifest.config, name);
  const records = store.cacheRecords;
  const limit = pLimit(opts.concurrency ?? 3);
  const layers = new Map<string, Promise<Descriptor>>();
  const layerFor = (l: { diffId: Digest; blob: Descriptor }) => {
    let p = layers.get(l.diffId);
    if (!p) {
      p = limit(() => fetchLayerAsTar(store, client, ref.path, l.blob, l.diffId));
      layers.set(l.diffId, p);
    }
    return p;
  };
  let count = 0;
  await Promise.all(
    cache.records.map(async (r) => {
      if (await records.get(r.key)) return;
      const layer = r.layer ? await layerFor(r.layer) : undefined;
      const rec: CacheRecord = {
        key: r.key,
        history: r.history,
        keyParts: r.keyParts,
        ...(layer ? { layer } : {}),
        ...(r.batch ? { batch: r.batch } : {}),
      };
      await records.put(rec);
      count++;
    }),
  );
  if (cache.mounts?.length) await importMounts(store, cache.mounts, layerFor);
  return { records: count };
}

/**
 * Cache mounts into the registry: each one's data tar (made by the local exporter) enters
 * the store as a blob and is pushed like any layer (compressed, skipped when present).
 */
async function exportMounts(
  store: Store,
  ids: string[],
  blobFor: (layer: Descriptor) => Promise<Descriptor>,
): Promise<ExportedMount[]> {
  const tmp = await store.makeTempDir('mount-export-');
  try {
    await store.cacheMounts.exportLocal(tmp, ids);
    const dir = join(tmp, 'mounts');
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^[a-f0-9]{64}\.json$/.test(n)).sort();
    const out: ExportedMount[] = [];
    for (const name of names) {
      const hex = name.slice(0, 64);
      const meta = JSON.parse(await readFile(join(dir, name), 'utf8')) as { id: string };
      const w = store.blobWriter();
      await pipeline(createReadStream(join(dir, `${hex}.tar`)), w.stream);
      const { digest, size } = await w.commit();
      const blob = await blobFor({ mediaType: MediaType.layerTar, digest, size });
      out.push({ hex, meta: { id: meta.id }, layer: { diffId: digest, blob } });
    }
    return out;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Cache mounts from the registry: each layer (verified) laid out as the local format, then imported. */
async function importMounts(
  store: Store,
  mounts: ExportedMount[],
  layerFor: (l: { diffId: Digest; blob: Descriptor }) => Promise<Descriptor>,
): Promise<void> {
  const tmp = await store.makeTempDir('mount-import-');
  try {
    const dir = join(tmp, 'mounts');
    await mkdir(dir);
    for (const m of mounts) {
      if (!/^[a-f0-9]{64}$/.test(m.hex) || typeof m.meta?.id !== 'string' || !isDigest(m.layer?.diffId) || !isDigest(m.layer?.blob?.digest)) continue;
      const layer = await layerFor(m.layer);
      await pipeline(store.openBlob(layer.digest), createWriteStream(join(dir, `${m.hex}.tar`)));
      await writeFile(join(dir, `${m.hex}.json`), JSON.stringify({ id: m.meta.id }));
    }
    await store.cacheMounts.importLocal(tmp);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function readCacheConfig(client: RegistryClient, repo: string, desc: Descriptor, name: string): Promise<CacheConfig> {
  if (desc.size > MAX_DOCUMENT_BYTES) throw tooLarge(`cache config of ${name}`, name);
  const bytes = await downloadSmallBlob(client, repo, desc);
  let parsed: CacheConfig;
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as CacheConfig;
  } catch {
    throw registryError('invalid-manifest', [name, 'cache config is not JSON'], { where: name });
  }
  const ok =
    Array.isArray(parsed?.records) &&
    parsed.records.every(
      (r) =>
        isDigest(r.key) &&
        (r.layer === undefined || (isDigest(r.layer.diffId) && isDigest(r.layer.blob?.digest))) &&
        (r.batch === undefined || (Array.isArray(r.batch) && r.batch.every((e) => isDigest(e?.key)))),
    );
  if (!ok) throw registryError('invalid-manifest', [name, 'malformed cache records'], { where: name });
  return parsed;
}

/** A cache layer in the store as an uncompressed tar (the executor reads its digest as diff_id). */
async function fetchLayerAsTar(store: Store, client: RegistryClient, repo: string, blob: Descriptor, diffId: Digest): Promise<Descriptor> {
  if (await store.hasBlob(diffId)) {
    return { mediaType: MediaType.layerTar, digest: diffId, size: (await store.blobSize(diffId))! };
  }
  const sink = uncompressedLayerSink(store, blob, diffId);
  try {
    await downloadBlob(client, repo, blob, sink.stream);
    return await sink.finish();
  } catch (e) {
    await sink.abort();
    throw e;
  }
}
