import type { CliContext, Command } from '../command.js';
import { listOpt, parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';

const options: OptionSpec[] = [
  { name: 'platform', type: 'string' },
  { name: 'all-platforms', short: 'a', type: 'boolean' },
  { name: 'insecure-registry', type: 'string', multiple: true },
  { name: 'quiet', short: 'q', type: 'boolean' },
];

export const command: Command = {
  name: 'pull',
  usage: 'tsbuild pull [--platform OS/ARCH[/VARIANT][,…] | -a/--all-platforms] [--insecure-registry HOST]... [-q] NAME[:TAG|@DIGEST]',
  summary: 'Download an image from a registry.',
  run: pull,
};

async function pull(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length !== 1) throw usageError('"pull" requires exactly 1 argument');
  const ref = args.positionals[0];
  const { pull: pullImage, settingsFromEnv, formatReference, parseReference } = await import('../../engine/index.js');
  await pullImage({
    ref,
    platform: stringOpt(args, 'platform'),
    allPlatforms: args.options['all-platforms'] === true,
    insecureRegistries: listOpt(args, 'insecure-registry'),
    store: ctx.root,
    settings: settingsFromEnv(ctx.env),
    onMessage: args.options.quiet === true ? undefined : (line) => ctx.stdout.write(line + '\n'),
  });
  ctx.stdout.write(formatReference(parseReference(ref)) + '\n');
  return 0;
}
