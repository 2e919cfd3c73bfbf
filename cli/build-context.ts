import { join } from 'node:path';
import { digestOf, hexOf } from '../common/index.js';
import type { ContentHasher } from '../planner/index.js';
import { hashSelection, loadStatMemo, openContext, selectSources, type Matcher } from '../planner/context.js';

/**
 * The build context as the planner sees it: a content hasher for COPY/ADD sources with a
 * stat memo kept in the store (so an unchanged context is not re-read), and the
 * .dockerignore matcher the executor applies when copying.
 */
export async function makeContentHasher(
  storeRoot: string,
  contextDir: string | undefined,
  dockerfilePath: string,
): Promise<{ hash: ContentHasher; ignore: Matcher | undefined; save(): Promise<void> }> {
  if (contextDir === undefined) {
    return { hash: async () => ({ context: 'none' }), ignore: undefined, save: async () => {} };
  }
  const ctx = await openContext(contextDir, { dockerfilePath });
  const memo = await loadStatMemo(join(storeRoot, 'cache', 'stat-memo', `${hexOf(digestOf(contextDir))}.json`));
  return {
    ignore: ctx.ignore,
    hash: async (sources, o) => {
      const sel = await selectSources(contextDir, sources, { ignore: ctx.ignore, excludes: o.excludes, what: 'build context', where: o.where });
      return hashSelection(sel, { memo });
    },
    save: () => memo.save(),
  };
}
