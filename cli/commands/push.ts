import type { CliContext, Command } from '../command.js';
import { listOpt, parseArgs, usageError, type OptionSpec } from '../args.js';
import { COMPRESSION_USAGE, compressionFlags, compressionOptions } from '../compression-flags.js';

const options: OptionSpec[] = [
  { name: 'insecure-registry', type: 'string', multiple: true },
  { name: 'quiet', short: 'q', type: 'boolean' },
  ...compressionOptions,
];

export const command: Command = {
  name: 'push',
  usage: `tsbuild push [--insecure-registry HOST]... [-q] ${COMPRESSION_USAGE} NAME[:TAG]`,
  summary: 'Upload an image to a registry.',
  run: push,
};

async function push(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length !== 1) throw usageError('"push" requires exactly 1 argument');
  const flags = compressionFlags(args);
  const { push: pushImage, settingsFromEnv } = await import('../../engine/index.js');
  const isQuiet = args.options.quiet === true;
  const result = await pushImage({
    ref: args.positionals[0],
    ...flags,
    insecureRegistries: listOpt(args, 'insecure-registry'),
    store: ctx.root,
    settings: settingsFromEnv(ctx.env),
    onMessage: isQuiet ? undefined : (line) => ctx.stdout.write(line + '\n'),
  });
  if (isQuiet) ctx.stdout.write(result.manifestDigest + '\n');
  return 0;
}
