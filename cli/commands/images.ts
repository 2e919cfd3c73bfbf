import { shortId } from '../../common/index.js';
import { parseArgs, boolOpt, usageError } from '../args.js';
import type { Command } from '../command.js';
import { createdSince, humanSize, renderTable } from '../format.js';

/**
 * `tsbuild images`: one row per name (and one `<none>` row per unnamed image), newest
 * first, in Docker's table layout and units.
 */

export const command: Command = {
  name: 'images',
  usage: 'tsbuild images [-q] [--no-trunc] [REPOSITORY[:TAG]]',
  summary: 'List images',
  async run(argv, ctx) {
    const args = parseArgs(argv, [
      { name: 'quiet', short: 'q', type: 'boolean' },
      { name: 'no-trunc', type: 'boolean' },
      { name: 'all', short: 'a', type: 'boolean' },
    ]);
    if (args.positionals.length > 1) throw usageError('"images" accepts at most one argument');
    const { openStore, parseReference, familiarRepository } = await import('../../store/index.js');
    const store = await openStore(ctx.root);
    const images = await store.listImages();
    const filter = args.positionals[0];
    const noTrunc = boolOpt(args, 'no-trunc');
    const rows: string[][] = [];
    for (const img of images) {
      const id = noTrunc ? img.id : shortId(img.id);
      const created = createdSince(img.config.created);
      const size = humanSize(img.sizeBytes);
      const named = img.names.map((n) => parseReference(n));
      if (named.length === 0 && filter === undefined) rows.push(['<none>', '<none>', id, created, size]);
      for (const ref of named) {
        const repo = familiarRepository(ref);
        if (filter !== undefined && !matches(filter, repo, ref.tag ?? '')) continue;
        rows.push([repo, ref.tag ?? '<none>', id, created, size]);
      }
    }
    if (boolOpt(args, 'quiet')) {
      const seen = new Set<string>();
      for (const r of rows) if (!seen.has(r[2])) ctx.stdout.write(r[2] + '\n'), seen.add(r[2]);
      return 0;
    }
    ctx.stdout.write(renderTable([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], ...rows]));
    return 0;
  },
};

/** `images busybox` lists every tag of that repository; `images busybox:1` just that one. */
function matches(filter: string, repo: string, tag: string): boolean {
  const colon = filter.lastIndexOf(':');
  if (colon > filter.lastIndexOf('/')) return filter.slice(0, colon) === repo && filter.slice(colon + 1) === tag;
  return filter === repo;
}
