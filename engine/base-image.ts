import { UserError, bestPlatformMatch, formatPlatform, hostPlatform, samePlatform, type Platform, type SourceRange } from '../common/index.js';
import type { BaseImage } from '../planner/index.js';
import { familiarName, parseReference, type ImageRecord, type Store } from '../store/index.js';
import type { ClientOptions } from '../registry/index.js';

function toBase(ref: string, img: ImageRecord): BaseImage {
  return { ref, id: img.id, manifestDigest: img.manifestDigest, config: img.config, layers: img.manifest.layers };
}

/**
 * A FROM / COPY --from image: the store's copy, else pulled from its registry as
 * `docker build` does (or always pulled with --pull).
 */
export async function resolveBaseImage(
  store: Store,
  ref: string,
  opts: { where?: SourceRange; pull?: boolean; progress?: (line: string) => void; registry: ClientOptions; platform?: Platform },
): Promise<BaseImage> {
  const parsed = parseReference(ref);
  const platform = opts.platform ?? hostPlatform();
  if (!opts.pull) {
    // An index gives its child for the platform (none held: pulled below, as containerd does).
    const local = await store.resolveImage(ref, { platform });
    if (local && (local.index || isForPlatform(local, platform))) return toBase(ref, local);
    // A plain image of another platform is the base only of a build for the host (BuildKit
    // warns, InvalidBaseImagePlatform); for a foreign platform it would be the wrong CPU's files.
    if (local && samePlatform(platform, hostPlatform())) return toBase(ref, local);
    if (local) {
      throw new UserError('base-platform-mismatch', `${familiarName(parsed)}: the store's image is ${formatPlatform(local.config)}, not ${formatPlatform(platform)}`, {
        where: opts.where ?? ref,
        hint: `build it for ${formatPlatform(platform)} (tsbuild build --platform ${formatPlatform(platform)}), or pull a multi-platform image (--pull)`,
      });
    }
  }
  const { pullImage } = await import('../registry/index.js');
  if (!opts.pull) opts.progress?.(`Unable to find image '${familiarName(parsed)}' locally`);
  try {
    const pulled = await pullImage(store, ref, { ...opts.registry, progress: opts.progress, platform: formatPlatform(platform) });
    return toBase(ref, pulled);
  } catch (e) {
    if (e instanceof UserError) {
      throw new UserError(e.code, `${familiarName(parsed)}: ${e.message}`, { where: opts.where ?? ref, hint: e.hint });
    }
    throw e;
  }
}

/** Whether an image's config says it is for `platform` (or one `platform` runs: containerd's vector). */
function isForPlatform(img: ImageRecord, platform: Platform): boolean {
  return bestPlatformMatch([img.config], platform, (c) => c) !== undefined;
}
