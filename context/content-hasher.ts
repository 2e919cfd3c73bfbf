import type { SourceRange } from '../common/index.js';
import type { SourceSelection } from './select.js';

/**
 * Digests what a COPY/ADD selects from the build context, for its cache key: paths, bytes,
 * modes, link targets — never mtimes (context/select.ts walks, context/hash.ts hashes).
 */
export type ContentHasher = (
  sources: string[],
  opts: { excludes: string[]; where: SourceRange; what: string },
) => Promise<{ digest: string; files?: Record<string, string>; selection?: SourceSelection }>;
