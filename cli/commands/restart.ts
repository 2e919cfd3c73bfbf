import type { CliContext, Command } from '../command.js';
import { parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';
import { eachContainer } from '../each-container.js';
import { timeoutOpt } from './stop.js';

const options: OptionSpec[] = [
  { name: 'time', short: 't', type: 'string' },
  { name: 'signal', short: 's', type: 'string' },
];

export const command: Command = {
  name: 'restart',
  usage: 'tsbuild restart [-t SECONDS] [-s SIGNAL] CONTAINER...',
  summary: 'Stop containers (as stop does) and start them again.',
  run: restart,
};

async function restart(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length === 0) throw usageError('"restart" requires at least 1 argument');
  const timeoutSeconds = timeoutOpt(stringOpt(args, 'time'));
  const signal = stringOpt(args, 'signal');
  const { restartContainer, parseSignal, settingsFromEnv } = await import('../../engine/index.js');
  if (signal !== undefined) parseSignal(signal); // a bad name is one error, not one per container
  const settings = settingsFromEnv(ctx.env);
  return eachContainer(args.positionals, ctx, async (ref) => {
    await restartContainer({ container: ref, timeoutSeconds, signal, store: ctx.root, settings });
    return ref;
  });
}
