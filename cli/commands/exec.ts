import { UserError } from '../../common/index.js';
import type { CliContext, Command } from '../command.js';
import { boolOpt, listOpt, parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';

const options: OptionSpec[] = [
  { name: 'interactive', short: 'i', type: 'boolean' },
  { name: 'tty', short: 't', type: 'boolean' },
  { name: 'user', short: 'u', type: 'string' },
  { name: 'workdir', short: 'w', type: 'string' },
  { name: 'env', short: 'e', type: 'string', multiple: true },
];

export const command: Command = {
  name: 'exec',
  usage: 'tsbuild exec [-i] [-t] [-u USER] [-w DIR] [-e K=V]... CONTAINER COMMAND [ARG...]',
  summary: 'Run a command in a running container.',
  run: exec,
};

async function exec(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options, { stopAtPositional: true });
  const [container, ...cmd] = args.positionals;
  if (container === undefined || cmd.length === 0) throw usageError('"exec" requires at least 2 arguments: CONTAINER COMMAND [ARG...]');
  const tty = boolOpt(args, 'tty');
  if (tty && !ctx.stdin.isTTY) throw new UserError('not-a-tty', 'the input device is not a TTY', { exitCode: 1 });
  const { execInContainer, expandEnvFlags, settingsFromEnv } = await import('../../engine/index.js');
  return execInContainer({
    container,
    command: cmd,
    env: expandEnvFlags(listOpt(args, 'env'), ctx.env),
    user: stringOpt(args, 'user'),
    workdir: stringOpt(args, 'workdir'),
    tty,
    interactive: boolOpt(args, 'interactive'),
    forwardSignals: true,
    store: ctx.root,
    settings: settingsFromEnv(ctx.env),
  });
}
