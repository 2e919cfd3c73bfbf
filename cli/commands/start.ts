import type { CliContext, Command } from '../command.js';
import { parseArgs, usageError } from '../args.js';
import { eachContainer } from '../each-container.js';

export const command: Command = {
  name: 'start',
  usage: 'tsbuild start CONTAINER...',
  summary: 'Start stopped containers again, detached (their output: tsbuild logs).',
  run: start,
};

async function start(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, []);
  if (args.positionals.length === 0) throw usageError('"start" requires at least 1 argument');
  const { startContainer, settingsFromEnv } = await import('../../engine/index.js');
  const settings = settingsFromEnv(ctx.env);
  return eachContainer(args.positionals, ctx, async (ref) => {
    await startContainer({ container: ref, store: ctx.root, settings });
    return ref;
  });
}
