import { formatPlatform, type Platform } from '../common/index.js';
import { executeBuild, sharedExecution, type BuildResult, type ExecuteOptions } from '../executor/index.js';
import type { Plan } from '../planner/index.js';
import { MediaType, type ImageIndex } from '../store/index.js';
import type { OutputPlan } from './outputs.js';

/**
 * A multi-platform build: one execution per platform, in parallel (steps they share run
 * once), each writing its image's blobs only; then the image index over them, one
 * manifest per platform in the order `--platform` gave (BuildKit's exporter keeps the
 * order of its platforms list: exporter/containerimage/writer.go), named as the build's
 * image would be. The result's image is the index's child for the first platform.
 */
export async function executePlatforms(plans: Plan[], platforms: Platform[], opts: ExecuteOptions, outputs: OutputPlan): Promise<BuildResult> {
  const shared = sharedExecution();
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
  const image = outputs.isIndexed ? await opts.store.resolveImage(written.digest, { platform: platforms[0] }) : undefined;
  const first = results[0].image;
  return {
    image: image ?? { ...first, index: { digest: written.digest, size: written.size, index, platforms } },
    cached: results.reduce((n, r) => n + r.cached, 0),
    executed: results.reduce((n, r) => n + r.executed, 0),
    keys: [...new Set(results.flatMap((r) => r.keys))],
  };
}
