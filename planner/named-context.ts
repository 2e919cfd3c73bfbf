import type { SourceRange } from '../common/index.js';
import type { ContentHasher } from '../context/index.js';
import type { BaseImage } from './step.js';

/**
 * A `--build-context NAME=…` as the planner sees it: an image (`docker-image://`,
 * `oci-layout://`), or a directory with its own .dockerignore, whose selections `hash`
 * digests as the main context's are. `name` is the key the executor finds the directory by;
 * `label` the name as the user gave it.
 */
export type NamedContext = { kind: 'image'; image: BaseImage } | { kind: 'dir'; name: string; label: string; hash: ContentHasher };

/** Finds the named context a `FROM`/`--from` word names (undefined: none by that name). */
export type NamedContextResolver = (name: string, where: SourceRange) => Promise<NamedContext | undefined>;

/**
 * The named context `name` stands for, if any. BuildKit never looks up `scratch` or
 * `context` (dockerfile2llb/convert.go namedContextFunc).
 */
export function namedContextOf(resolve: NamedContextResolver | undefined, name: string, where: SourceRange): Promise<NamedContext | undefined> {
  const lower = name.toLowerCase();
  if (!resolve || lower === 'scratch' || lower === 'context') return Promise.resolve(undefined);
  return resolve(name, where);
}
