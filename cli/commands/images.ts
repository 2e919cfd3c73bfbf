import { formatPlatform, shortId } from '../../common/index.js';
import { parseArgs, boolOpt, listOpt, stringOpt, usageError } from '../args.js';
import type { Command } from '../command.js';
import { createdSince, humanSize } from '../format.js';
import { goTime, parseFilters, renderRows } from '../format-option.js';

/**
 * `tsbuild images`: one row per name (and one `<none>` row per unnamed image), newest
 * first, in Docker's table layout and units; `--format`, `--digests` and `--filter`
 * (dangling, reference, label) as docker/cli's image list has them.
 */

/** docker/cli formatter/image.go: the fields of a row and their titles. */
const HEADERS = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'VIRTUAL SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  Platforms: 'PLATFORMS',
};

type Row = Record<Exclude<keyof typeof HEADERS, 'Platforms'>, string> & { Platforms?: string };

export const command: Command = {
  name: 'images',
  usage: 'tsbuild images [-q] [--no-trunc] [--digests] [--filter dangling=true|reference=PATTERN|label=K[=V]]... [--format TEMPLATE] [REPOSITORY[:TAG]]',
  summary: 'List images',
  async run(argv, ctx) {
    const args = parseArgs(argv, [
      { name: 'quiet', short: 'q', type: 'boolean' },
      { name: 'no-trunc', type: 'boolean' },
      { name: 'all', short: 'a', type: 'boolean' },
      { name: 'digests', type: 'boolean' },
      { name: 'filter', short: 'f', type: 'string', multiple: true },
      { name: 'format', type: 'string' },
    ]);
    if (args.positionals.length > 1) throw usageError('"images" accepts at most one argument');
    const filters = parseFilters(listOpt(args, 'filter'), ['dangling', 'reference', 'label']);
    for (const v of filters.get('dangling') ?? [])
      if (v !== 'true' && v !== 'false') throw usageError(`invalid filter 'dangling=${v}': want true or false`);
    const { openStore, parseReference, familiarRepository } = await import('../../store/index.js');
    const store = await openStore(ctx.root);
    const images = await store.listImages();
    const filter = args.positionals[0];
    const noTrunc = boolOpt(args, 'no-trunc');
    const rows: Row[] = [];
    const hasIndex = images.some((i) => i.index);
    for (const img of images) {
      const labels = img.config.config?.Labels ?? {};
      if (!(filters.get('label') ?? []).every((l) => hasLabel(labels, l))) continue;
      const dangling = img.names.length === 0;
      const wantDangling = filters.get('dangling');
      if (wantDangling && !wantDangling.includes(String(dangling))) continue;
      const row = (repo: string, tag: string): Row => ({
        // A multi-platform image is its index, as under Docker's containerd store.
        ID: noTrunc ? (img.index?.digest ?? img.id) : shortId(img.index?.digest ?? img.id),
        Repository: repo,
        Tag: tag,
        Digest: img.index?.digest ?? img.manifestDigest ?? '<none>',
        CreatedSince: createdSince(img.config.created),
        CreatedAt: goTime(img.config.created),
        Size: humanSize(img.sizeBytes),
        Containers: 'N/A',
        VirtualSize: humanSize(img.sizeBytes),
        SharedSize: 'N/A',
        UniqueSize: 'N/A',
        // Only when a multi-platform image is listed: other listings keep Docker's keys.
        ...(hasIndex ? { Platforms: (img.index?.platforms ?? [img.config]).map((p) => formatPlatform(p)).join(',') } : {}),
      });
      const references = filters.get('reference');
      if (dangling) {
        if (filter === undefined && !references) rows.push(row('<none>', '<none>'));
        continue;
      }
      for (const ref of img.names.map((n) => parseReference(n))) {
        const repo = familiarRepository(ref);
        const tag = ref.tag ?? '<none>';
        if (filter !== undefined && !matches(filter, repo, tag)) continue;
        if (references && !references.some((p) => globMatch(p, repo) || globMatch(p, `${repo}:${tag}`))) continue;
        rows.push(row(repo, tag));
      }
    }
    if (boolOpt(args, 'quiet')) {
      const seen = new Set<string>();
      for (const r of rows) if (!seen.has(r.ID)) ctx.stdout.write(r.ID + '\n'), seen.add(r.ID);
      return 0;
    }
    // A PLATFORMS column only when a multi-platform image is listed: other listings stay Docker's.
    const platforms = hasIndex ? '\t{{.Platforms}}' : '';
    const defaultTable = boolOpt(args, 'digests')
      ? `{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}${platforms}`
      : `{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}${platforms}`;
    ctx.stdout.write(renderRows(stringOpt(args, 'format'), rows, { defaultTable, headers: HEADERS }));
    return 0;
  },
};

/** `label=KEY` (present) or `label=KEY=VALUE`. */
function hasLabel(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  return eq < 0 ? Object.hasOwn(labels, filter) : labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/** Go's path.Match: `*` and `?` stay within one path segment, `[...]` a class. */
export function globMatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`).test(name);
}

/** `images busybox` lists every tag of that repository; `images busybox:1` just that one. */
function matches(filter: string, repo: string, tag: string): boolean {
  const colon = filter.lastIndexOf(':');
  if (colon > filter.lastIndexOf('/')) return filter.slice(0, colon) === repo && filter.slice(colon + 1) === tag;
  return filter === repo;
}
