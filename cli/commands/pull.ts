import type { CliContext, Command } from '../command.js';
import { listOpt, parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';

const options: OptionSpec[] = [
  { name: 'platform', type: 'string' },
  { name: 'insecure-registry', type: 'string', multiple: true },
  { name: 'quiet', short: 'q', type: 'boolean' },
];

export const command: Command = {
  name: 'pull',
  usage: 'tsbuild pull [--platform OS/ARCH[/VARIANT]] [--insecure-registry HOST]... [-q] NAME[:TAG|@DIGEST]',
  summary: 'Download an image from a registry.',
  run: pull,
};

async function pull(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length !== 1) throw usageError('"pull" requires exactly 1 argument');
  const ref = args.positionals[0];
  const { openStore, parseReference, formatReference } = await import('../../store/index.js');
  const { pullImage, registrySettings } = await import('../../registry/index.js');
  const parsed = parseReference(ref);
  const store = await openStore(ctx.root);
  const isQuiet = args.options.quiet === true;
  await pullImage(store, ref, {
    ...registrySettings(ctx.env, listOpt(args, 'insecure-registry')),
    platform: stringOpt(args, 'platform'),
    progress: isQuiet ? undefined : (line) => ctx.stdout.write(line + '\n'),
  });
  ctx.stdout.write(formatReference(parsed) + '\n');
  return 0;
}
