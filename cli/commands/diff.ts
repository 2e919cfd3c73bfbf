import type { CliContext, Command } from '../command.js';
import { parseArgs, usageError } from '../args.js';

export const command: Command = {
  name: 'diff',
  usage: 'tsbuild diff CONTAINER',
  summary: "List the changes to a container's files since it started: A added, C changed, D deleted.",
  run: diff,
};

async function diff(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, []);
  if (args.positionals.length !== 1) throw usageError('"diff" requires exactly 1 argument: CONTAINER');
  const { containerChanges, settingsFromEnv } = await import('../../engine/index.js');
  const changes = await containerChanges({ container: args.positionals[0], store: ctx.root, settings: settingsFromEnv(ctx.env) });
  ctx.stdout.write(changes.map((c) => `${c.kind} ${c.path}\n`).join(''));
  return 0;
}
