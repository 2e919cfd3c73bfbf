import type { CliContext, Command } from '../command.js';
import { listOpt, parseArgs, usageError, type OptionSpec } from '../args.js';

const options: OptionSpec[] = [
  { name: 'insecure-registry', type: 'string', multiple: true },
  { name: 'quiet', short: 'q', type: 'boolean' },
];

export const command: Command = {
  name: 'push',
  usage: 'tsbuild push [--insecure-registry HOST]... [-q] NAME[:TAG]',
  summary: 'Upload an image to a registry.',
  run: push,
};

async function push(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length !== 1) throw usageError('"push" requires exactly 1 argument');
  const { openStore } = await import('../../store/index.js');
  const { pushImage, registrySettings } = await import('../../registry/index.js');
  const store = await openStore(ctx.root);
  const isQuiet = args.options.quiet === true;
  const result = await pushImage(store, args.positionals[0], {
    ...registrySettings(ctx.env, listOpt(args, 'insecure-registry')),
    progress: isQuiet ? undefined : (line) => ctx.stdout.write(line + '\n'),
  });
  if (isQuiet) ctx.stdout.write(result.manifestDigest + '\n');
  return 0;
}
