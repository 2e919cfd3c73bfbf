import { boolOpt, listOpt, parseArgs, stringOpt, usageError } from '../args.js';
import type { Command } from '../command.js';
import { humanSize } from '../format.js';

/** Go's time.ParseDuration, which buildx reads `until` with: `24h`, `1h30m`, `90s`, `1.5h`. */
export function parseGoDuration(s: string): number | undefined {
  const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
  if (s === '0') return 0;
  const re = /([0-9]*\.?[0-9]+)(ns|us|\u00b5s|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * unitMs[m[2]];
    end = re.lastIndex;
  }
  return end === s.length && end > 0 ? total : undefined;
}

/** `--filter until=DURATION` (or its old name unused-for) as buildx's toBuildkitPruneInfo reads it (commands/prune.go). */
function untilOf(filters: string[]): number | undefined {
  let until: number | undefined;
  let key: string | undefined;
  for (const f of filters) {
    const eq = f.indexOf('=');
    const k = eq < 0 ? f : f.slice(0, eq);
    const v = eq < 0 ? '' : f.slice(eq + 1);
    if (k !== 'until' && k !== 'unused-for') throw usageError(`--filter ${k}= is not supported (want until=DURATION)`);
    if (key !== undefined && key !== k) throw usageError('conflicting filters "until" and "unused-for"');
    if (until !== undefined) throw usageError(`"${k}" filter expects only one value`);
    key = k;
    until = parseGoDuration(v);
    if (until === undefined) throw usageError(`"${k}" filter expects a duration (e.g., '24h'), not "${v}"`);
  }
  return until;
}

/** `tsbuild prune [--all] [--keep-storage SIZE] [--filter until=DURATION]`: mark-and-sweep of blobs, layers and cache. */
export const command: Command = {
  name: 'prune',
  usage: 'tsbuild prune [--all] [--keep-storage SIZE] [--filter until=DURATION]',
  summary: 'Remove unused layers, blobs and build cache',
  async run(argv, ctx) {
    const args = parseArgs(argv, [
      { name: 'all', short: 'a', type: 'boolean' },
      { name: 'keep-storage', type: 'string' },
      { name: 'filter', type: 'string', multiple: true },
      { name: 'force', short: 'f', type: 'boolean' },
    ]);
    if (args.positionals.length > 0) throw usageError('"prune" accepts no arguments');
    const untilMs = untilOf(listOpt(args, 'filter'));
    const keep = stringOpt(args, 'keep-storage');
    const { openStore, parseStorageSize } = await import('../../engine/index.js');
    const keepStorageBytes = keep === undefined ? undefined : parseStorageSize(keep);
    if (keep !== undefined && keepStorageBytes === undefined) throw usageError(`invalid --keep-storage "${keep}": want a size like 10GB`);
    const store = await openStore(ctx.root);
    const r = await store.prune({ all: boolOpt(args, 'all'), keepStorageBytes, untilMs });
    if (r.cacheRecordsRemoved > 0) ctx.stdout.write(`Deleted build cache records: ${r.cacheRecordsRemoved}\n`);
    if (r.cacheMountsRemoved > 0) ctx.stdout.write(`Deleted cache mounts: ${r.cacheMountsRemoved}\n`);
    if (r.blobsRemoved + r.layersRemoved > 0) ctx.stdout.write(`Deleted blobs: ${r.blobsRemoved}, extracted layers: ${r.layersRemoved}\n`);
    ctx.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimedBytes)}\n`);
    return 0;
  },
};
