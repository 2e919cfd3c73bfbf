import { UserError, formatPlatform, type Digest, type Platform } from '../common/index.js';
import { executeBuild, sharedExecution, withRootfsView, type BuildResult, type ExecuteOptions, type SharedExecution } from '../executor/index.js';
import type { Plan } from '../planner/index.js';
import { MediaType, type ImageIndex, type ImageRecord, type Lease, type Store } from '../store/index.js';
import type { IndexedImage, IndexExportWriter, PlatformRoot } from './index-outputs.js';
import type { OutputPlan } from './outputs.js';

/**
 * A multi-platform build: one execution per platform, in parallel (steps they share run
 * once), each writing its image's blobs only; then the image index over them, one
 * manifest per platform in the order `--platform` gave (BuildKit's exporter keeps the
 * order of its platforms list: exporter/containerimage/writer.go), named as the build's
 * image would be; then the outputs other than the store (engine/index-outputs.ts). The
 * result's image is the index's child for the first platform.
 */
export async function executePlatforms(plans: Plan[], platforms: Platform[], opts: ExecuteOptions, outputs: OutputPlan): Promise<BuildResult> {
  const shared = sharedExecution();
  // Taken first, so what the platforms write stays until the outputs are written (each
  // execution's own lease ends with it); what they reuse is protected below.
  const lease = await opts.store.acquireLease();
  try {
    const results = await Promise.all(
      plans.map((plan) => executeBuild(plan, { ...opts, names: [], isIndexed: false, exports: [], shared })),
    );
    const manifests = [];
    for (const [i, r] of results.entries()) {
      const bytes = await opts.store.readBlob(r.image.manifestDigest);
      if (!bytes) throw new Error(`[internal] manifest ${r.image.manifestDigest} of ${formatPlatform(platforms[i])} is not stored`);
      manifests.push({ mediaType: MediaType.manifest, digest: r.image.manifestDigest, size: bytes.length, platform: platforms[i] });
    }
    const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.index, manifests };
    const written = await opts.store.writeIndex({ index, names: outputs.isIndexed ? outputs.names : [], isIndexed: outputs.isIndexed });
    const stored = outputs.isIndexed ? await opts.store.resolveImage(written.digest, { platform: platforms[0] }) : undefined;
    const first = results[0].image;
    const image: IndexedImage = stored?.index ? { ...stored, index: stored.index } : { ...first, index: { digest: written.digest, size: written.size, index, platforms } };
    if (outputs.indexExports.length) {
      const children = results.map((r, i) => ({ platform: platforms[i], image: r.image }));
      await protectLayers(lease, children.map((c) => c.image));
      for (const x of outputs.indexExports) await exportIndex(x, { image, children, opts, shared });
    }
    return {
      image,
      cached: results.reduce((n, r) => n + r.cached, 0),
      executed: results.reduce((n, r) => n + r.executed, 0),
      keys: [...new Set(results.flatMap((r) => r.keys))],
    };
  } finally {
    await lease.release();
  }
}

/** Every layer of the children (blob and extracted dir), base layers included, kept from a concurrent prune. */
async function protectLayers(lease: Lease, images: ImageRecord[]): Promise<void> {
  for (const img of images) {
    for (const [i, l] of img.manifest.layers.entries()) {
      await lease.protect(l.digest);
      await lease.protect(img.config.rootfs.diff_ids[i] as Digest);
    }
  }
}

/** Write one output of the build, shown as its own vertex: the whole index, or every platform's files. */
async function exportIndex(
  x: IndexExportWriter,
  b: { image: IndexedImage; children: { platform: Platform; image: ImageRecord }[]; opts: ExecuteOptions; shared: SharedExecution },
): Promise<void> {
  const { progress } = b.opts;
  const vertex = b.shared.vertices.take();
  progress.start(vertex, x.display);
  try {
    switch (x.kind) {
      case 'index':
        await x.write(b.image);
        break;
      case 'files':
        await withPlatformRoots(b.opts.store, b.children, (roots) => x.write(roots, b.opts.sourceDateEpoch));
        break;
      default: {
        const never: never = x;
        throw new Error(`[internal] export ${String(never)}`);
      }
    }
  } catch (e) {
    progress.end(vertex, { error: e instanceof UserError ? e.message : String(e) });
    throw e;
  }
  progress.end(vertex, {});
}

/** Run `fn` with a read-only view of each child's files at once, in --platform order. */
async function withPlatformRoots<T>(store: Store, children: { platform: Platform; image: ImageRecord }[], fn: (roots: PlatformRoot[]) => Promise<T>): Promise<T> {
  const next = async (i: number, roots: PlatformRoot[]): Promise<T> => {
    if (i === children.length) return fn(roots);
    const { platform, image } = children[i];
    const diffIds = image.config.rootfs.diff_ids;
    const dirs = await Promise.all(image.manifest.layers.map((l, j) => store.layerDir(diffIds[j] as Digest, l)));
    return withRootfsView(store, dirs, (rootfs) => next(i + 1, [...roots, { platform, rootfs }]));
  };
  return next(0, []);
}
