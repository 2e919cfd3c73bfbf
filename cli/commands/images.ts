import { shortId } from '../../common/index.js';
import { parseArgs, boolOpt, usageError } from '../args.js';
import type { Command } from '../command.js';

/**
 * `tsbuild images`: one row per name (and one `<none>` row per unnamed image), newest
 * first, in Docker's table layout and units. Also exports the table and unit helpers the
 * other image commands print with.
 */

/** go-units HumanSizeWithPrecision(size, 3): decimal units, 3 significant digits ("20.5kB"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${parseFloat(size.toPrecision(3))}${units[i]}`;
}

/** go-units HumanDuration, as Docker prints CREATED ("2 minutes ago" without the "ago"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** "2 minutes ago", or "N/A" for an image without a creation time (as Docker). */
export function createdSince(created: string | undefined, now = Date.now()): string {
  const t = created ? Date.parse(created) : NaN;
  if (Number.isNaN(t) || t <= 0 && created?.startsWith('0001')) return 'N/A';
  return `${humanDuration(Math.max(0, now - t))} ago`;
}

/**
 * Docker's table: Go tabwriter(minwidth 10, padding 3); every column but the last is
 * padded to its widest cell + 3 (at least 10).
 */
export function renderTable(rows: string[][]): string {
  const cols = Math.max(...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < cols - 1; c++) widths[c] = Math.max(10, ...rows.map((r) => [...(r[c] ?? '')].length + 3));
  return rows
    .map((r) => r.map((cell, c) => (c < cols - 1 ? cell + ' '.repeat(widths[c] - [...cell].length) : cell)).join('').trimEnd() + '\n')
    .join('');
}

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
