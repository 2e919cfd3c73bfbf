import type { CliContext, Command } from '../command.js';
import { parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';

const options: OptionSpec[] = [
  { name: 'message', short: 'm', type: 'string' },
  { name: 'author', short: 'a', type: 'string' },
];

export const command: Command = {
  name: 'commit',
  usage: 'tsbuild commit [-m MESSAGE] [-a AUTHOR] CONTAINER [REPOSITORY[:TAG]]',
  summary: "Create a new image from a container's changes (works while it runs).",
  run: commit,
};

async function commit(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  const [container, ref, ...extra] = args.positionals;
  if (container === undefined || extra.length > 0) throw usageError('"commit" requires at least 1 and at most 2 arguments');
  const { commit: commitContainer, settingsFromEnv } = await import('../../engine/index.js');
  const written = await commitContainer({
    container,
    ref,
    message: stringOpt(args, 'message'),
    author: stringOpt(args, 'author'),
    store: ctx.root,
    settings: settingsFromEnv(ctx.env),
  });
  ctx.stdout.write(written.id + '\n');
  return 0;
}
