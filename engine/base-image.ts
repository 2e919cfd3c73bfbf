import { UserError, type SourceRange } from '../common/index.js';
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
  opts: { where?: SourceRange; pull?: boolean; progress?: (line: string) => void; registry: ClientOptions },
): Promise<BaseImage> {
  const parsed = parseReference(ref);
  if (!opts.pull) {
    const local = await store.resolveImage(ref);
    if (local) return toBase(ref, local);
  }
  const { pullImage } = await import('../registry/index.js');
  if (!opts.pull) opts.progress?.(`Unable to find image '${familiarName(parsed)}' locally`);
  try {
    const pulled = await pullImage(store, ref, { ...opts.registry, progress: opts.progress });
    return toBase(ref, pulled);
  } catch (e) {
    if (e instanceof UserError) {
      throw new UserError(e.code, `${familiarName(parsed)}: ${e.message}`, { where: opts.where ?? ref, hint: e.hint });
    }
    throw e;
  }
}
