import type { CliContext, Command } from '../command.js';
import { parseArgs, usageError } from '../args.js';
import { eachContainer } from '../each-container.js';

export const command: Command = {
  name: 'wait',
  usage: 'tsbuild wait CONTAINER...',
  summary: 'Block until containers stop, then print their exit codes.',
  run: wait,
};

async function wait(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, []);
  if (args.positionals.length === 0) throw usageError('"wait" requires at least 1 argument');
  const { waitContainer, settingsFromEnv } = await import('../../engine/index.js');
  const settings = settingsFromEnv(ctx.env);
  return eachContainer(args.positionals, ctx, async (ref) => String(await waitContainer({ container: ref, store: ctx.root, settings })));
}
