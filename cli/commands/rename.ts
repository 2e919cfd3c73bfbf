import type { CliContext, Command } from '../command.js';
import { parseArgs, usageError } from '../args.js';

export const command: Command = {
  name: 'rename',
  usage: 'tsbuild rename CONTAINER NEW_NAME',
  summary: 'Rename a container.',
  run: rename,
};

async function rename(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, []);
  if (args.positionals.length !== 2) throw usageError('"rename" requires exactly 2 arguments: CONTAINER NEW_NAME');
  const { renameContainer, settingsFromEnv } = await import('../../engine/index.js');
  const [container, name] = args.positionals;
  await renameContainer({ container, name, store: ctx.root, settings: settingsFromEnv(ctx.env) });
  return 0;
}
