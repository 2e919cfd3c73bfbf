import { digestOf, hexOf, type Digest } from '../common/index.js';
import type { Store } from '../store/index.js';
import type { ContentHasher } from './content-hasher.js';
import type { Matcher } from './dockerignore.js';
import { hashSelection } from './hash.js';
import { openContext } from './open.js';
import type { StatObserver } from './resolve.js';
import { selectSources, type SourceSelection } from './select.js';
import { loadStatMemo, type MemoStorage } from './stat-memo.js';

/** Above this many entries a COPY's key keeps only its digest (no per-file names to explain misses). */
const EXPLAIN_MAX_ENTRIES = 2000;

/**
 * Per-file fingerprints of a selection (from what hashing just computed), so a cache miss
 * can name the file that changed: `cache miss: src/app.js changed`.
 */
function fileFingerprints(sel: SourceSelection, fileDigests: Map<string, Digest>): Record<string, string> | undefined {
  const entries = sel.sources.flatMap((s) => s.entries);
  if (entries.length > EXPLAIN_MAX_ENTRIES) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    const content = e.type === 'file' ? fileDigests.get(e.relPath) : e.linkTarget;
    out[e.relPath] = hexOf(digestOf(`${e.type} ${e.mode} ${e.uid}:${e.gid} ${content ?? ''}`)).slice(0, 16);
  }
  return out;
}

/**
 * The build context as the planner sees it: a content hasher for COPY/ADD sources with a
 * stat memo kept in the store (so an unchanged context is not re-read), and the
 * .dockerignore matcher the executor applies when copying.
 */
export async function makeContentHasher(
  store: Store,
  contextDir: string | undefined,
  dockerfilePath: string | null,
  observe?: StatObserver,
  /** How messages name it: `build context` (a named one: `build context "NAME"`). */
  what = 'build context',
): Promise<{ hash: ContentHasher; ignore: Matcher | undefined; ignoreCandidates: string[]; save(): Promise<void> }> {
  if (contextDir === undefined) {
    return { hash: async () => ({ digest: 'no-context' }), ignore: undefined, ignoreCandidates: [], save: async () => {} };
  }
  const ctx = await openContext(contextDir, { dockerfilePath });
  const memo = await loadStatMemo(contextStatMemo(store, contextDir));
  return {
    ignore: ctx.ignore,
    ignoreCandidates: ctx.ignoreCandidates,
    hash: async (sources, o) => {
      const sel = await selectSources(contextDir, sources, { ignore: ctx.ignore, excludes: o.excludes, what, where: o.where, observe });
      const fileDigests = new Map<string, Digest>();
      const digest = await hashSelection(sel, { memo, fileDigests });
      return { digest, files: fileFingerprints(sel, fileDigests), selection: sel };
    },
    save: () => memo.save(),
  };
}

/**
 * The stat memo of one context folder, kept with the store's memos: atomic like every store
 * file, not durable (after a power loss an old or missing memo only costs re-reading files).
 */
export function contextStatMemo(store: Store, contextDir: string): MemoStorage {
  const key = digestOf(contextDir);
  return { read: () => store.memos.readText('context-stat', key), write: (text) => store.memos.writeText('context-stat', key, text) };
}
