import type { CliContext, Command } from '../command.js';
import { parseArgs, usageError } from '../args.js';
import { renderTable } from '../format.js';

export const command: Command = {
  name: 'top',
  usage: 'tsbuild top CONTAINER',
  summary: "Show a running container's processes.",
  run: top,
};

async function top(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, []);
  if (args.positionals.length === 0) throw usageError('"top" requires at least 1 argument: CONTAINER');
  if (args.positionals.length > 1) throw usageError('ps options are not supported yet: tsbuild top shows the columns of ps -ef');
  const { containerTop, settingsFromEnv } = await import('../../engine/index.js');
  const r = await containerTop({ container: args.positionals[0], store: ctx.root, settings: settingsFromEnv(ctx.env) });
  ctx.stdout.write(renderTable([r.titles, ...r.processes]));
  return 0;
}
