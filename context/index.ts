/**
 * context/: the build context and any folder a COPY reads from — which files a source
 * selects (Docker's rules: paths confined to the root, symlinks resolved inside it, Go's
 * wildcards per component, .dockerignore exactly as BuildKit reads and matches it), and the
 * digest of a selection for cache keys (paths, bytes, modes, owners, link targets; never
 * mtimes or inodes), with a stat memo in the store so an unchanged context is not re-read.
 * It must never write into the folders it reads, nor know Dockerfiles, steps or images:
 * the planner asks it for digests, the executor for the files to copy.
 */
export { makeContentHasher, contextStatMemo } from './build-context.js';
export type { ContentHasher } from './content-hasher.js';
export { openContext, type BuildContext } from './open.js';
export {
  selectSources,
  type SelectOptions,
  type SourceSelection,
  type SelectedSource,
  type SourceEntry,
  type EntryType,
} from './select.js';
export { hashSelection, type HashOptions } from './hash.js';
export { loadStatMemo, type StatMemo, type MemoStorage } from './stat-memo.js';
export { parseChmod, applyChmod, type Chmod } from './chmod.js';
export { parseDockerignore, cleanPath, type Matcher } from './dockerignore.js';
export { hasWildcards, literalPattern } from './glob.js';
export { resolveInRoot, type StatObserver } from './resolve.js';
export { contextMessages } from './messages.js';
