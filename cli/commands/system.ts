import type { CliContext, Command } from '../command.js';
import { parseArgs, stringOpt, usageError } from '../args.js';
import { humanSize } from '../format.js';
import { renderRows } from '../format-option.js';

/** `tsbuild system df`: docker/cli's formatter/disk_usage.go columns, plus the store's own rows. */
export const command: Command = {
  name: 'system',
  usage: 'tsbuild system df [--format table|json|TEMPLATE]',
  summary: "Show the store's disk usage.",
  run: system,
};

const HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

async function system(argv: string[], ctx: CliContext): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb !== 'df') throw usageError(verb === undefined ? '"system" requires a subcommand: df' : `unknown command "system ${verb}" (want df)`);
  const args = parseArgs(rest, [{ name: 'format', type: 'string' }]);
  if (args.positionals.length > 0) throw usageError('"system df" accepts no arguments');
  const { openStore } = await import('../../engine/index.js');
  const usage = await (await openStore(ctx.root)).diskUsage();
  const rows = usage.map((r) => ({
    Type: r.type,
    TotalCount: String(r.total),
    Active: String(r.active),
    Size: humanSize(r.sizeBytes),
    // Docker's "(NN%)" after the reclaimable size.
    Reclaimable: `${humanSize(r.reclaimableBytes)}${r.sizeBytes > 0 ? ` (${Math.round((100 * r.reclaimableBytes) / r.sizeBytes)}%)` : ''}`,
    SizeBytes: r.sizeBytes,
    ReclaimableBytes: r.reclaimableBytes,
  }));
  ctx.stdout.write(renderRows(stringOpt(args, 'format'), rows, { defaultTable: '{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}', headers: HEADERS }));
  return 0;
}
