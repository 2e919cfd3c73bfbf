import { boolOpt, parseArgs, stringOpt, usageError } from '../args.js';
import type { Command } from '../command.js';
import { humanSize } from '../format.js';

/** BuildKit's --keep-storage sizes (go-units RAMInBytes): binary units, `512MB` = 512 MiB. */
export function parseStorageSize(s: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(i?b?)$/i.exec(s.trim());
  if (!m) return undefined;
  const power = ['', 'k', 'm', 'g', 't', 'p'].indexOf(m[2].toLowerCase());
  return Math.floor(Number(m[1]) * 1024 ** power);
}

/** `tsbuild prune [--all] [--keep-storage SIZE]`: mark-and-sweep of blobs, layers and cache. */
export const command: Command = {
  name: 'prune',
  usage: 'tsbuild prune [--all] [--keep-storage SIZE]',
  summary: 'Remove unused layers, blobs and build cache',
  async run(argv, ctx) {
    const args = parseArgs(argv, [
      { name: 'all', short: 'a', type: 'boolean' },
      { name: 'keep-storage', type: 'string' },
      { name: 'force', short: 'f', type: 'boolean' },
    ]);
    if (args.positionals.length > 0) throw usageError('"prune" accepts no arguments');
    const keep = stringOpt(args, 'keep-storage');
    const keepStorageBytes = keep === undefined ? undefined : parseStorageSize(keep);
    if (keep !== undefined && keepStorageBytes === undefined) throw usageError(`invalid --keep-storage "${keep}": want a size like 10GB`);
    const { openStore } = await import('../../store/index.js');
    const store = await openStore(ctx.root);
    const r = await store.prune({ all: boolOpt(args, 'all'), keepStorageBytes });
    if (r.cacheRecordsRemoved > 0) ctx.stdout.write(`Deleted build cache records: ${r.cacheRecordsRemoved}\n`);
    if (r.cacheMountsRemoved > 0) ctx.stdout.write(`Deleted cache mounts: ${r.cacheMountsRemoved}\n`);
    if (r.blobsRemoved + r.layersRemoved > 0) ctx.stdout.write(`Deleted blobs: ${r.blobsRemoved}, extracted layers: ${r.layersRemoved}\n`);
    ctx.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimedBytes)}\n`);
    return 0;
  },
};
