import { UserError, throwCollected } from '../../common/index.js';
import type { CliContext, Command } from '../command.js';
import { boolOpt, parseArgs, usageError, type OptionSpec } from '../args.js';

const options: OptionSpec[] = [{ name: 'force', short: 'f', type: 'boolean' }];

export const command: Command = {
  name: 'rm',
  usage: 'tsbuild rm [-f] CONTAINER...',
  summary: 'Remove containers (-f: kill running ones first).',
  run: rm,
};

async function rm(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length === 0) throw usageError('"rm" requires at least 1 argument');
  const { removeContainer, openStore, settingsFromEnv } = await import('../../engine/index.js');
  const store = await openStore(ctx.root);
  const settings = settingsFromEnv(ctx.env);
  const errors: UserError[] = [];
  for (const ref of args.positionals) {
    try {
      await removeContainer({ container: ref, force: boolOpt(args, 'force'), store, settings });
      ctx.stdout.write(ref + '\n');
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      errors.push(e);
    }
  }
  throwCollected(errors);
  return 0;
}
