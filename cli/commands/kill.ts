import type { CliContext, Command } from '../command.js';
import { parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';
import { eachContainer } from '../each-container.js';

const options: OptionSpec[] = [{ name: 'signal', short: 's', type: 'string' }];

export const command: Command = {
  name: 'kill',
  usage: 'tsbuild kill [-s SIGNAL] CONTAINER...',
  summary: "Send a signal (default SIGKILL) to running containers' main process.",
  run: kill,
};

async function kill(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length === 0) throw usageError('"kill" requires at least 1 argument');
  const { killContainer, parseSignal, settingsFromEnv } = await import('../../engine/index.js');
  const signal = stringOpt(args, 'signal');
  if (signal !== undefined) parseSignal(signal); // a bad name is one error, not one per container
  const settings = settingsFromEnv(ctx.env);
  return eachContainer(args.positionals, ctx, async (ref) => {
    await killContainer({ container: ref, signal, store: ctx.root, settings });
    return ref;
  });
}
