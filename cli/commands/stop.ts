import type { CliContext, Command } from '../command.js';
import { parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';
import { eachContainer } from '../each-container.js';

const options: OptionSpec[] = [
  { name: 'time', short: 't', type: 'string' },
  { name: 'signal', short: 's', type: 'string' },
];

export const command: Command = {
  name: 'stop',
  usage: 'tsbuild stop [-t SECONDS] [-s SIGNAL] CONTAINER...',
  summary: 'Stop running containers (SIGTERM, then SIGKILL after -t seconds, default 10).',
  run: stop,
};

export function timeoutOpt(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw usageError(`invalid argument "${value}" for "-t, --time" flag: a whole number of seconds`);
  return Number(value);
}

async function stop(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length === 0) throw usageError('"stop" requires at least 1 argument');
  const timeoutSeconds = timeoutOpt(stringOpt(args, 'time'));
  const signal = stringOpt(args, 'signal');
  const { stopContainer, parseSignal, settingsFromEnv } = await import('../../engine/index.js');
  if (signal !== undefined) parseSignal(signal); // a bad name is one error, not one per container
  const settings = settingsFromEnv(ctx.env);
  return eachContainer(args.positionals, ctx, async (ref) => {
    await stopContainer({ container: ref, timeoutSeconds, signal, store: ctx.root, settings });
    return ref;
  });
}
